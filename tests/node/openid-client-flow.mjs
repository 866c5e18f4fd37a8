// SPDX-License-Identifier: MIT
// A certified third-party relying party (openid-client, by the author of
// node-oidc-provider) against Gatehouse: discovery, authorization code with
// PKCE S256, state and nonce, ID token validation (signature, iss, aud,
// nonce, at_hash) by the library, refresh, userinfo. The browser's part is
// done by hand with fetch: no redirect following, cookies kept here.
//
// Run by tests/test-openid-client.c with ISSUER, CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI, USERNAME and PASSWORD in the environment. Prints one JSON
// summary on stdout and exits 0, or prints why on stderr and exits 1.

// Node 18 (Debian 12's) has WebCrypto only as node:crypto's webcrypto;
// openid-client looks for it on globalThis, so it is imported after this.
if (globalThis.crypto === undefined) {
    globalThis.crypto = (await import('node:crypto')).webcrypto;
}
const client = await import('openid-client');

const TIMEOUT_MS = 60_000;

function fail(message) {
    process.stderr.write(`openid-client-flow: ${message}\n`);
    process.exit(1);
}

function env(name) {
    const v = process.env[name];
    if (v === undefined || v === '') fail(`${name} is not set`);
    return v;
}

// A cookie jar of name=value pairs, as a browser would keep them for the
// one site this flow talks to.
const jar = new Map();

function keepCookies(res) {
    // getSetCookie keeps several Set-Cookie lines apart (Node >= 18.14).
    const lines = typeof res.headers.getSetCookie === 'function'
        ? res.headers.getSetCookie()
        : [res.headers.get('set-cookie')].filter(Boolean);
    for (const line of lines) {
        const pair = line.split(';', 1)[0];
        const eq = pair.indexOf('=');
        if (eq <= 0) continue;
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === '' || /;\s*max-age=0\b/i.test(line)) jar.delete(name);
        else jar.set(name, value);
    }
}

function cookieHeader() {
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

async function browse(url, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    if (jar.size > 0) headers.cookie = cookieHeader();
    const res = await fetch(url, {
        ...init,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS / 2),
    });
    keepCookies(res);
    return res;
}

function htmlDecode(s) {
    return s
        .replace(/&quot;/g, '"')
        .replace(/&#0*39;|&apos;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
}

// The value of <input type="hidden" name="NAME" value="...">.
function hidden(html, name) {
    const re = new RegExp(
        `<input[^>]*\\bname="${name}"[^>]*\\bvalue="([^"]*)"`, 'i');
    const m = re.exec(html);
    return m ? htmlDecode(m[1]) : undefined;
}

// The sign-in form's action, resolved as a browser would.
function formAction(html, base) {
    const m = /<form[^>]*\baction="([^"]*)"/i.exec(html);
    return new URL(m ? htmlDecode(m[1]) : '', base);
}

async function signIn(authorizationUrl, username, password) {
    let res = await browse(authorizationUrl);
    if (res.status !== 200) {
        fail(`GET /authorize answered ${res.status}, not the sign-in page: ` +
             `${(await res.text()).slice(0, 300)}`);
    }
    const page = await res.text();
    const csrf = hidden(page, 'csrf');
    const request = hidden(page, 'request');
    if (!csrf) fail('the sign-in page has no csrf field');
    if (!request) fail('the sign-in page has no request field');
    const action = formAction(page, authorizationUrl);
    const form = new URLSearchParams({ username, password, csrf, request });
    res = await browse(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
    });
    if (res.status !== 303) {
        fail(`POST ${action.pathname} answered ${res.status}, not 303: ` +
             `${(await res.text()).slice(0, 300)}`);
    }
    const location = res.headers.get('location');
    if (!location) fail('the sign-in answer has no Location');
    return new URL(location, action);
}

async function main() {
    const issuer = new URL(env('ISSUER'));
    const clientId = env('CLIENT_ID');
    const clientSecret = env('CLIENT_SECRET');
    const redirectUri = env('REDIRECT_URI');
    const username = env('USERNAME');
    const password = env('PASSWORD');

    // ID_TOKEN_ALG, when set, is an RP that assumes an ID token alg
    // without registering it (RS256, the OIDC default): the library then
    // accepts that alg only, whatever discovery lists.
    const idTokenAlg = process.env.ID_TOKEN_ALG;
    const metadata = idTokenAlg
        ? { id_token_signed_response_alg: idTokenAlg }
        : undefined;

    // The issuer is http on loopback in the test: allowed explicitly.
    const config = await client.discovery(
        issuer, clientId, metadata, client.ClientSecretBasic(clientSecret),
        { execute: [client.allowInsecureRequests], timeout: 30 });
    const server = config.serverMetadata();

    const codeVerifier = client.randomPKCECodeVerifier();
    const codeChallenge =
        await client.calculatePKCECodeChallenge(codeVerifier);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state,
        nonce,
    });

    const callback = await signIn(authorizationUrl, username, password);
    const expected = new URL(redirectUri);
    if (callback.origin + callback.pathname !==
        expected.origin + expected.pathname) {
        fail(`redirected to ${callback.href}, not ${redirectUri}`);
    }

    // Validates state, iss in the response (RFC 9207), the code exchange
    // with the verifier, and the ID token: signature via jwks_uri, iss,
    // aud, exp, iat, nonce, at_hash.
    const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: codeVerifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!tokens.refresh_token) fail('the code exchange gave no refresh token');

    const refreshed = await client.refreshTokenGrant(config,
                                                     tokens.refresh_token);
    if (!refreshed.access_token) fail('the refresh gave no access token');
    if (refreshed.refresh_token === tokens.refresh_token) {
        fail('the refresh token was not rotated');
    }

    // Checks that the userinfo sub is the ID token's.
    const userinfo = await client.fetchUserInfo(config,
                                                refreshed.access_token,
                                                claims.sub);

    const summary = {
        issuer: server.issuer,
        client_id: clientId,
        sub: claims.sub,
        id_token: {
            alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0],
                                        'base64url')).alg,
            iss: claims.iss,
            aud: claims.aud,
            azp: claims.azp,
            sid: claims.sid,
            nonce_matched: claims.nonce === nonce,
            at_hash: typeof claims.at_hash === 'string',
            auth_time: claims.auth_time,
            amr: claims.amr,
            acr: claims.acr,
        },
        token_type: tokens.token_type,
        scope: tokens.scope,
        expires_in: tokens.expiresIn(),
        refresh: {
            rotated: refreshed.refresh_token !== undefined &&
                refreshed.refresh_token !== tokens.refresh_token,
            token_type: refreshed.token_type,
            id_token: refreshed.id_token !== undefined,
            // OIDC Core §12.2: the refreshed ID token is of the same
            // authentication.
            amr: refreshed.id_token !== undefined ? refreshed.claims().amr
                                                  : undefined,
        },
        userinfo,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
}

const watchdog = setTimeout(() => fail(`gave up after ${TIMEOUT_MS} ms`),
                            TIMEOUT_MS);
watchdog.unref();

try {
    await main();
} catch (err) {
    const parts = [`${err?.name ?? 'Error'}: ${err?.message ?? err}`];
    if (err?.code) parts.push(`code=${err.code}`);
    if (err?.error) parts.push(`error=${err.error}`);
    if (err?.error_description) {
        parts.push(`error_description=${err.error_description}`);
    }
    if (err?.cause) {
        parts.push(`cause=${err.cause?.message ?? JSON.stringify(err.cause)}`);
    }
    fail(parts.join(' '));
}
