/* SPDX-License-Identifier: MIT */
/* The route table: every endpoint, its methods and its CORS and caching. */
#ifndef GATEHOUSE_ROUTES_H
#define GATEHOUSE_ROUTES_H

#include "gatehouse/http/http.h"

/* What main.c hands to http_start: the table and how it answers. */
extern const struct http_router routes_router;

#endif
