import { sha256Hex } from '../lib/digest';

/** Tokens look like `mce_<43 base64url chars>`: 32 random bytes, recognisable in a secret scanner. */
export const TOKEN_PREFIX = 'mce_';

export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return TOKEN_PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Only this hash is stored; a database leak does not leak usable tokens. */
export function hashToken(token: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(token));
}

/** Enough of the token to tell it apart in a list, not enough to use it. */
export function tokenPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6);
}
