// SPDX-License-Identifier: MIT
// The peer of bench/run: node-oidc-provider set up as close to Gatehouse's
// bench config as it goes. Same clients and secrets, ES256 and RS256 keys,
// JWT access tokens (RFC 9068) through resource indicators, refresh-token
// rotation, introspection, and its state in the same kind of private Redis
// through the adapter below (or in memory without PEER_REDIS_SOCKET).
//
// Environment: PEER_PORT (required), PEER_REDIS_SOCKET (unix socket path),
// PEER_WORKERS (processes, default 1; > 1 needs Redis), PEER_KEYS (a JSON
// file of private JWKs; made by the primary when absent, or alone with
// PEER_KEYS_ONLY=1 so that start-up is timed without key generation).
//
// Resources pick the token format: urn:bench:es256 and urn:bench:rs256 get
// JWT access tokens signed with that alg, urn:bench:opaque an opaque one
// (node-oidc-provider can only introspect tokens it stored, so not its JWTs).
//
// GET /bench/refresh-tokens?n=N&alg=ES256 mints N refresh tokens for "crm"
// (one grant each), the state a code exchange leaves, so the refresh grant
// can be measured without driving the sign-in UI. Loopback only.
//
// GET /bench/session?client=crm makes what a sign-in and a consent leave:
// a Session (an account logged in, the client's grant recorded on it) and
// its Grant (openid profile email), and answers the session's id, the
// value of the _session cookie (unsigned: no cookies.keys, as here). With
// it /auth answers with a code at once, as Gatehouse's /authorize does with
// its SSO cookie. With n=N (at most 10,000) it makes N such sessions and
// answers one id a line (Redis memory per session).
//
// PEER_FANOUT_SINK=PORT (with PEER_FANOUT_APPS, default 50) sets up the
// one-logout fan-out instead: clients app01..appNN whose back-channel logout
// URIs are http://127.0.0.1:PORT/bc/NN (backchannel_logout_session_required,
// ES256 logout tokens), the backchannelLogout feature on, and
// GET /bench/fanout-session, which makes a Session with an account logged in
// and every app's Grant and sid recorded on it (what a sign-in and a code
// flow per app leave) and answers JSON: the session id (the _session
// cookie), the account, each app's sid, and an ID token of the last app for
// id_token_hint. Its SSRF guard refuses loopback addresses, so this instance
// sends its back-channel requests with fetch's default dispatcher.
//
// PEER_REDIS_PREFIX: the adapter's key prefix (default "oidc:").
import cluster from 'node:cluster';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PEER_PORT);
const socket = process.env.PEER_REDIS_SOCKET || '';
const workers = Number(process.env.PEER_WORKERS || 1);
const keysFile = process.env.PEER_KEYS || '';
const redisPrefix = process.env.PEER_REDIS_PREFIX || 'oidc:';
const fanoutSink = Number(process.env.PEER_FANOUT_SINK || 0);
const fanoutApps = Math.min(Number(process.env.PEER_FANOUT_APPS || 50), 99);
const issuer = `http://127.0.0.1:${port}`;

if (!port) {
  console.error('server.mjs: PEER_PORT is required');
  process.exit(2);
}

function loadKeys() {
  if (keysFile && fs.existsSync(keysFile)) {
    return JSON.parse(fs.readFileSync(keysFile, 'utf8'));
  }
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys = [
    { ...ec.privateKey.export({ format: 'jwk' }), kid: 'es256', alg: 'ES256', use: 'sig' },
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rs256', alg: 'RS256', use: 'sig' },
  ];
  if (keysFile) fs.writeFileSync(keysFile, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

if (process.env.PEER_KEYS_ONLY) {
  loadKeys();
  process.exit(0);
} else if (cluster.isPrimary && workers > 1) {
  loadKeys();
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', (w, code) => {
    console.error(`worker ${w.process.pid} exited ${code}`);
    process.exit(1);
  });
  const stop = () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await serve();
}

// The adapter node-oidc-provider's docs sketch for Redis (ioredis): one
// JSON value per model instance, a hash for the consumable ones, and a list
// per grant so a grant's tokens can be revoked together.
async function redisAdapter() {
  const { default: Redis } = await import('ioredis');
  const client = new Redis({ path: socket, keyPrefix: redisPrefix });
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken',
    'DeviceCode', 'BackchannelAuthenticationRequest']);
  const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest']);
  const grantKey = (id) => `grant:${id}`;

  return class RedisAdapter {
    constructor(name) { this.name = name; }

    key(id) { return `${this.name}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = client.multi();
      if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        multi.rpush(grantKey(payload.grantId), key);
        multi.expire(grantKey(payload.grantId), expiresIn || 86400, 'GT');
      }
      if (payload.userCode) multi.set(`userCode:${payload.userCode}`, id, 'EX', expiresIn);
      if (payload.uid) multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn);
      await multi.exec();
    }

    async find(id) {
      const key = this.key(id);
      if (consumable.has(this.name)) {
        const data = await client.hgetall(key);
        if (!data || !data.payload) return undefined;
        const { payload, ...rest } = data;
        return { ...rest, ...JSON.parse(payload) };
      }
      const data = await client.get(key);
      return data ? JSON.parse(data) : undefined;
    }

    async findByUid(uid) {
      const id = await client.get(`uid:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode) {
      const id = await client.get(`userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    async consume(id) {
      await client.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }

    async destroy(id) { await client.del(this.key(id)); }

    async revokeByGrantId(grantId) {
      // ioredis adds keyPrefix to commands, not to the stored key names.
      const keys = await client.lrange(grantKey(grantId), 0, -1);
      const multi = client.multi();
      for (const k of keys) multi.del(k);
      multi.del(grantKey(grantId));
      await multi.exec();
    }
  };
}

async function serve() {
  const keys = loadKeys();
  const resources = {
    'urn:bench:es256': { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
    'urn:bench:rs256': { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
    'urn:bench:opaque': { accessTokenFormat: 'opaque' },
  };
  const client = (id, extra) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    token_endpoint_auth_method: 'client_secret_basic',
    ...extra,
  });
  const appId = (i) => `app${String(i).padStart(2, '0')}`;
  const fanoutClients = [];
  for (let i = 1; fanoutSink && i <= fanoutApps; i += 1) {
    fanoutClients.push(client(appId(i), {
      grant_types: ['authorization_code'],
      redirect_uris: ['http://127.0.0.1:3001/callback'],
      id_token_signed_response_alg: 'ES256',
      backchannel_logout_uri: `http://127.0.0.1:${fanoutSink}/bc/${String(i).padStart(2, '0')}`,
      backchannel_logout_session_required: true,
    }));
  }
  const config = {
    clients: fanoutSink ? fanoutClients : [
      client('svc-es', { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'api' }),
      client('svc-rs', { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'api' }),
      client('crm', {
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1:3001/callback'],
        id_token_signed_response_alg: 'ES256',
      }),
      client('crm-rs', {
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1:3001/callback'],
        id_token_signed_response_alg: 'RS256',
      }),
    ],
    jwks: { keys },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    features: {
      clientCredentials: { enabled: true },
      // As Gatehouse: a client introspects its own tokens.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: Boolean(fanoutSink) },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:bench:es256',
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          const r = resources[resource];
          if (!r) throw new Error(`unknown resource ${resource}`);
          return { scope: 'api', audience: resource, accessTokenTTL: 300, ...r };
        },
      },
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 300, ClientCredentials: 300, IdToken: 300,
      RefreshToken: 86400, AuthorizationCode: 60, Grant: 86400,
      Session: 43200, Interaction: 600,
    },
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: 'Bench User', email: 'bench@example.com' }),
    }),
  };
  if (fanoutSink) {
    // The sink is on 127.0.0.1, which the SSRF guard's dispatcher refuses.
    config.fetch = (url, { dispatcher, ...options }) => globalThis.fetch(url, options);
  }
  if (socket) config.adapter = await redisAdapter();
  const provider = new Provider(issuer, config);
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  provider.on('backchannel.error', (ctx, err, c) => console.error('backchannel.error', c.clientId, err.message));

  async function mint(n, clientId, resource) {
    const c = await provider.Client.find(clientId);
    const out = [];
    for (let i = 0; i < n; i += 1) {
      const accountId = `user-${crypto.randomUUID()}`;
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid offline_access profile email');
      grant.addResourceScope(resource, 'api');
      const grantId = await grant.save();
      const rt = new provider.RefreshToken({
        accountId, client: c, grantId, gty: 'authorization_code',
        scope: 'openid offline_access profile email api', resource,
        authTime: Math.floor(Date.now() / 1000), iiat: Math.floor(Date.now() / 1000),
        expiresWithSession: false,
      });
      out.push(await rt.save());
    }
    return out;
  }

  async function mintSession(clientId) {
    const accountId = `user-${crypto.randomUUID()}`;
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope('openid profile email');
    const grantId = await grant.save();
    const session = new provider.Session();
    session.loginAccount({ accountId });
    session.grantIdFor(clientId, grantId);
    session.ensureClientContainer(clientId);
    await session.save(43200);
    return session.jti;
  }

  async function mintFanoutSession(n) {
    const accountId = `user-${crypto.randomUUID()}`;
    const session = new provider.Session();
    session.loginAccount({ accountId });
    const sids = {};
    await Promise.all(Array.from({ length: n }, async (_, k) => {
      const clientId = appId(k + 1);
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid');
      const grantId = await grant.save();
      session.grantIdFor(clientId, grantId);
      session.ensureClientContainer(clientId);
      sids[clientId] = session.sidFor(clientId);
    }));
    await session.save(43200);
    const last = await provider.Client.find(appId(n));
    const idToken = new provider.IdToken({ sub: accountId }, { client: last });
    idToken.scope = 'openid';
    idToken.set('sid', sids[last.clientId]);
    idToken.set('nonce', 'n');
    return {
      session: session.jti, account: accountId, sids,
      id_token: await idToken.issue({ use: 'idtoken' }),
    };
  }

  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    if (req.url.startsWith('/bench/refresh-tokens')) {
      const u = new URL(req.url, issuer);
      const alg = u.searchParams.get('alg') || 'ES256';
      const n = Math.min(Number(u.searchParams.get('n') || 1), 10000);
      try {
        const list = await mint(n, alg === 'RS256' ? 'crm-rs' : 'crm',
          alg === 'RS256' ? 'urn:bench:rs256' : 'urn:bench:es256');
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${list.join('\n')}\n`);
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
      return;
    }
    if (req.url.startsWith('/bench/fanout-session') && fanoutSink) {
      try {
        const out = await mintFanoutSession(fanoutApps);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
      return;
    }
    if (req.url.startsWith('/bench/session') && !fanoutSink) {
      const u = new URL(req.url, issuer);
      const clientId = u.searchParams.get('client') === 'crm-rs' ? 'crm-rs' : 'crm';
      const n = Math.max(1, Math.min(Number(u.searchParams.get('n')) || 1, 10000));
      try {
        const ids = [];
        for (let i = 0; i < n; i += 1) ids.push(await mintSession(clientId));
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${ids.join('\n')}\n`);
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
      return;
    }
    callback(req, res);
  });
  server.keepAliveTimeout = 30000;
  server.listen(port, '127.0.0.1', () => {
    if (!cluster.isWorker || cluster.worker.id === 1) console.error(`peer listening ${issuer}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
