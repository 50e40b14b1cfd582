import ipaddr from 'ipaddr.js';

/**
 * The connecting client's address as SPF sees it (RFC 7208 §5, §5.6): an IPv4-mapped IPv6 address
 * is an IPv4 address, so it matches `ip4` and `a` by A records, never `ip6` or AAAA.
 */
export type ClientAddress =
  | { family: 4; address: ipaddr.IPv4; text: string }
  | { family: 6; address: ipaddr.IPv6; text: string };

/** The SPF client address, or null when the input is not an IPv4 or IPv6 address. */
export function parseClientAddress(input: string): ClientAddress | null {
  const text = input.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const address = ipaddr.IPv4.parse(text);
    return { family: 4, address, text: address.toString() };
  }
  // Zone indexes ("fe80::1%eth0") name an interface of the receiver, not a sender.
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const address = ipaddr.IPv6.parse(text);
    if (address.isIPv4MappedAddress()) {
      const v4 = address.toIPv4Address();
      return { family: 4, address: v4, text: v4.toString() };
    }
    return { family: 6, address, text: address.toRFC5952String() };
  }
  return null;
}

/**
 * Does an address from a DNS answer (A or AAAA) fall in the same network as the client, given the
 * mechanism's prefix length for that family?
 */
export function addressMatches(client: ClientAddress, recordAddress: string, prefix: number): boolean {
  if (client.family === 4) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(recordAddress)) return false;
    return client.address.match(ipaddr.IPv4.parse(recordAddress), prefix);
  }
  if (recordAddress.includes('%') || !ipaddr.IPv6.isValid(recordAddress)) return false;
  return client.address.match(ipaddr.IPv6.parse(recordAddress), prefix);
}

/** `ip4:`/`ip6:` matching: a network of the other family never matches (RFC 7208 §5.6). */
export function networkMatches(client: ClientAddress, family: 4 | 6, network: string, prefix: number): boolean {
  if (client.family !== family) return false;
  return addressMatches(client, network, prefix);
}

/** The 32 hex nibbles of an IPv6 address, most significant first. */
function nibbles(address: ipaddr.IPv6): string[] {
  return address.toByteArray().flatMap((byte) => [byte >> 4, byte & 0x0f]).map((n) => n.toString(16));
}

/**
 * The `%{i}` value (RFC 7208 §7.3): dotted quad for IPv4, dot-separated nibbles for IPv6. The nibbles
 * are upper-case, as the openspf conformance suite expects in explanations (`v-macro-ip6`); DNS
 * names compare case-insensitively, so queries built from it are unaffected.
 */
export function macroIpValue(client: ClientAddress): string {
  return client.family === 4 ? client.text : nibbles(client.address).join('.').toUpperCase();
}

/** The reverse-mapping name queried for PTR records (`in-addr.arpa` / `ip6.arpa`). */
export function reverseName(client: ClientAddress): string {
  if (client.family === 4) return `${[...client.address.octets].reverse().join('.')}.in-addr.arpa`;
  return `${nibbles(client.address).reverse().join('.')}.ip6.arpa`;
}

/** Is this A/AAAA record value the client's own address (used to validate PTR names, §5.5)? */
export function isSameAddress(client: ClientAddress, recordAddress: string): boolean {
  return addressMatches(client, recordAddress, client.family === 4 ? 32 : 128);
}
