import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: the token's issuer. */
  issuer: string;
  /** The Access application's AUD tag. */
  audience: string;
  /** Where the signing keys are; Access serves them at `<issuer>/cdn-cgi/access/certs`. */
  jwksUrl: string;
}

/** From the Worker's settings; null when Access is not configured (then no Access JWT is accepted). */
export function accessConfig(env: Env): AccessConfig | null {
  const team = env.ACCESS_TEAM_DOMAIN?.trim();
  const audience = env.ACCESS_AUD?.trim();
  if (!team || !audience) return null;
  const issuer = team.startsWith('http') ? team.replace(/\/$/, '') : `https://${team}`;
  return { issuer, audience, jwksUrl: env.ACCESS_JWKS_URL?.trim() || `${issuer}/cdn-cgi/access/certs` };
}

// One key set per URL for the isolate's life: jose caches the keys and refetches on an unknown `kid`
// (key rotation) at most every 30 s, so each request does not fetch the JWKS.
const keySets = new Map<string, JWTVerifyGetKey>();

function keySet(url: string): JWTVerifyGetKey {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    keySets.set(url, set);
  }
  return set;
}

export type AccessIdentity = { ok: true; email: string } | { ok: false; reason: string };

/**
 * Verifies the `Cf-Access-Jwt-Assertion` Cloudflare Access adds to each request: signature against
 * the team's keys (RS256 only, so `alg: none` and HMAC confusion are refused), issuer, audience and
 * expiry. Returns the signed-in email.
 */
export async function verifyAccessJwt(token: string, config: AccessConfig): Promise<AccessIdentity> {
  try {
    const { payload } = await jwtVerify(token, keySet(config.jwksUrl), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'email'],
    });
    const email = typeof payload.email === 'string' ? payload.email.trim().toLowerCase() : '';
    if (!email) return { ok: false, reason: 'the Access token names no email' };
    return { ok: true, email };
  } catch (error) {
    return { ok: false, reason: `the Access token is not valid (${error instanceof Error ? error.message : String(error)})` };
  }
}
