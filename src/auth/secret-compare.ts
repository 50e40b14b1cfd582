async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
}

/**
 * Constant-time comparison with a configured secret: both sides are hashed first, so neither the
 * content nor the length leaks through timing. An unset or empty secret matches nothing.
 */
export async function tokenMatches(presented: string, secret: string | undefined): Promise<boolean> {
  if (!secret) return false;
  const [a, b] = await Promise.all([digest(presented), digest(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}
