-- SPDX-License-Identifier: MIT
-- Round trip through the script cache: proves EVALSHA works at start.
-- KEYS: none. ARGV[1]: a value to echo back.
return ARGV[1]
