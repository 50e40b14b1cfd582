/**
 * The scan plan for one IP: which connections to make, in which order, within the budget.
 *
 * Order (most important facts first, so a budget that runs out loses the least):
 *   1. Node TLS handshake after `STARTTLS\r\nNOOP\r\n`: SMTP facts, injection test, the highest protocol.
 *   2. One raw hello per protocol not yet known (TLS 1.3, 1.2, 1.1, 1.0, SSLv3, SSLv2). A lower
 *      version in the answer settles the versions in between. Each ≤ 1.2 answer also gives a suite,
 *      the Certificate as sent, the ServerKeyExchange, renegotiation_info and the compression choice.
 *   3. TLS_FALLBACK_SCSV: a hello below the highest version with 0x5600.
 *   4. TLS 1.3 suites and groups together: each HelloRetryRequest names one suite and one group, so
 *      removing both from the next offer learns one of each per connection.
 *   5. Suites of TLS 1.2, 1.1, 1.0, SSLv3: the candidates again, weakest first (a server that follows
 *      the client's order picks another suite, one with its own order the same), then offer all but
 *      the ones chosen until the server refuses.
 *      Their hellos list the groups not yet seen first, so ECDHE key exchanges name new groups too.
 *   6. The groups not yet seen: over TLS 1.3 when the server has it, else over TLS ≤ 1.2 ECDHE.
 * No handshake is completed except the first one (and, for a TLS 1.3-only server that refused the
 * pipelined command, one more for its certificate chain).
 */
import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { PROTOCOLS, type CertificateFacts, type ProbeTargetResult, type ProtocolName, type SmtpFacts } from '../../../src/tls/probe-result.ts';
import { cipherSuite, cipherSuiteId, cipherSuiteName } from '../../../src/tls/cipher-suites.ts';
import { SSLV2_CIPHER_SPECS } from '../../../src/tls/cipher-suites.ts';
import { buildClientHello, buildSslv2ClientHello, type ClientHelloOptions, type TlsProtocol } from '../wire/client-hello.ts';
import { GROUPS, groupInfo, groupName, protocolOfVersion, signatureSchemeName, VERSION_CODE } from '../wire/registry.ts';
import type { ServerFlight } from '../wire/server-flight.ts';
import { BudgetExhausted, ConnectionBudget, type Endpoint, type SessionOptions } from '../smtp/session.ts';
import { nodeHandshake, rawProbe } from './probes.ts';
import { candidateSuites } from './candidates.ts';
import { certificateFacts } from '../certificates/facts.ts';
import { verifyChain, type TrustAnchors } from '../certificates/chain.ts';

export interface EngineOptions extends SessionOptions {
  maxConnections: number;
  /** Trust anchors for chain verification (public roots plus --ca-file). */
  trustAnchors: TrustAnchors;
}

/** The connection-based part of a result: everything but DANE (per host) and findings. */
export type ConnectionFacts = Omit<ProbeTargetResult, 'host' | 'dane' | 'findings'>;

const TLS_DOWN: TlsProtocol[] = ['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1.0', 'SSLv3'];
const LEGACY_GROUPS = GROUPS.filter((g) => g.kind !== 'hybrid').map((g) => g.id);
const TLS13_GROUPS = GROUPS.filter((g) => g.tls13).map((g) => g.id);

class ScanStopped extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

export async function scanConnections(target: Endpoint & { host: string }, options: EngineOptions): Promise<ConnectionFacts> {
  const startedAt = new Date();
  const budget = new ConnectionBudget(options.maxConnections);
  const known: Partial<Record<ProtocolName, boolean>> = {};
  const accepted: Partial<Record<TlsProtocol, number[]>> = {};
  const preference: Partial<Record<ProtocolName, boolean | null>> = {};
  const groupsFound: number[] = [];
  const sigalgs = new Set<number>();
  const dhBits: number[] = [];
  let certificatesSent: Uint8Array[] | null = null;
  let certificateVersion = 0;
  let nodeChain: Uint8Array[] = [];
  let renegotiation: boolean | null = null;
  let renegotiationVersion = 0;
  let compression: boolean | null = null;
  let fallbackScsv: boolean | null = null;
  let complete = true;
  const tls13 = { suitesDone: false, groupsDone: false, insistsOnKeyShare: false };
  let stopReason: string | null = null;
  let smtp: SmtpFacts = { greeting: null, ehlo_extensions: [], starttls_offered: false, starttls_injection: null, error: null };
  // SNI carries host names only (RFC 6066 §3), never an IP literal.
  const serverName = isIP(target.host) ? undefined : target.host;

  const result = (status: ProbeTargetResult['status'], reason: string | null): ConnectionFacts => {
    const protocols = Object.fromEntries(PROTOCOLS.map((p) => [p, known[p] === true])) as Record<ProtocolName, boolean>;
    const cipher_suites: ProbeTargetResult['cipher_suites'] = {};
    for (const p of TLS_DOWN) {
      const ids = accepted[p];
      if (protocols[p] && ids?.length) cipher_suites[p] = ids.map((id) => ({ id: cipherSuiteId(id), name: cipherSuiteName(id) }));
    }
    const groups = groupsFound.map(groupName);
    const ecBits = groupsFound.map((g) => groupInfo(g)).filter((g) => g?.kind === 'ec').map((g) => g!.bits!);
    // The chain as sent (TLS ≤ 1.2 Certificate message); for a TLS 1.3-only server the chain as
    // Node's OpenSSL rebuilt it from what was sent, since the 1.3 Certificate message is encrypted.
    const chainDer = certificatesSent ?? nodeChain;
    const certificates: CertificateFacts[] = [];
    for (const der of chainDer) {
      try {
        certificates.push(certificateFacts(der));
      } catch {
        // An unparseable certificate is left out; the chain check below still sees it.
      }
    }
    let chain = null;
    try {
      chain = chainDer.length ? verifyChain(chainDer, options.trustAnchors) : null;
    } catch (e) {
      chain = { trusted: false, error: `unparseable certificate: ${(e as Error).message}`, in_order: false, missing_intermediates: false };
    }
    if (status !== 'ok' && smtp.starttls_injection === false && !protocolsSeen()) smtp.starttls_injection = null;
    return {
      ip: target.ip,
      port: target.port,
      status,
      status_reason: reason,
      protocols,
      cipher_suites,
      server_preference: Object.fromEntries(Object.entries(preference).filter(([p]) => protocols[p as ProtocolName])),
      groups,
      key_exchange: { groups, dh_bits: dhBits.length ? Math.min(...dhBits) : null, ecdh_bits: ecBits.length ? Math.min(...ecBits) : null },
      signature_algorithms: [...sigalgs].map(signatureSchemeName),
      secure_renegotiation: renegotiation,
      fallback_scsv: fallbackScsv,
      compression,
      certificates,
      chain,
      smtp,
      connections: budget.used,
      complete,
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
    };
  };
  const protocolsSeen = () => PROTOCOLS.some((p) => known[p]);

  /** One raw probe; SMTP-stage trouble stops the scan (the server is rate-limiting or failing). */
  async function probe(hello: Uint8Array): Promise<ServerFlight> {
    const outcome = await rawProbe(target, budget, options, hello);
    if ('failure' in outcome) {
      if (outcome.smtp.error) smtp.error = outcome.smtp.error;
      throw new ScanStopped(outcome.failure.reason);
    }
    return outcome.flight;
  }

  /** Records what any ≤ 1.2 ServerHello flight tells beyond its suite. */
  function noteFlight(flight: ServerFlight) {
    const version = flight.version ?? 0;
    if (flight.cipherSuite === null || version >= 0x0304) return;
    if (version >= renegotiationVersion) {
      renegotiationVersion = version;
      renegotiation = flight.renegotiationInfo;
    }
    if (flight.compressionMethod !== null) compression = compression === true || flight.compressionMethod !== 0;
    if (flight.certificates.length && version > certificateVersion) {
      certificatesSent = flight.certificates;
      certificateVersion = version;
    }
    const kx = flight.keyExchange;
    if (kx?.signatureScheme != null) sigalgs.add(kx.signatureScheme);
    if (kx?.kind === 'dhe') dhBits.push(kx.primeBits);
    // A group used for ECDHE in TLS ≤ 1.2 is a group the server accepts: the TLS 1.3 group search
    // then only has the rest to ask about.
    if (kx?.kind === 'ecdhe' && !groupsFound.includes(kx.group)) groupsFound.push(kx.group);
  }

  /**
   * Every group, the ones not yet seen first: a server that follows the client's group order (most
   * do) then names a new group in each ECDHE ServerKeyExchange of the suite enumeration, for free.
   */
  function legacyGroupOffer(): number[] {
    return [...LEGACY_GROUPS.filter((g) => !groupsFound.includes(g)), ...groupsFound.filter((g) => LEGACY_GROUPS.includes(g))];
  }

  function hello(version: TlsProtocol, suites: readonly number[], extra: Partial<ClientHelloOptions> = {}): Uint8Array {
    return buildClientHello({
      version,
      suites,
      groups: version === 'TLSv1.3' ? TLS13_GROUPS : legacyGroupOffer(),
      keyShares: [],
      deflate: version !== 'TLSv1.3',
      ...(serverName ? { serverName } : {}),
      ...extra,
    });
  }

  /** Marks `version` answered: the server chose `chosen` (or refused when null). */
  function settle(offered: TlsProtocol, chosen: ProtocolName | null) {
    if (chosen === null) {
      known[offered] = false;
      return;
    }
    known[chosen] = true;
    // A server picks the highest version it shares: everything between was refused.
    const from = PROTOCOLS.indexOf(chosen);
    for (let i = from + 1; i <= PROTOCOLS.indexOf(offered); i++) known[PROTOCOLS[i]!] = false;
  }

  try {
    // 1. Node handshake: SMTP facts, injection test, the highest protocol Node can speak.
    const first = await nodeHandshake(target, budget, options);
    smtp = first.smtp;
    if ('failure' in first) {
      if (first.failure.kind === 'no_starttls') return result('no_starttls', first.failure.reason);
      // A server that refuses the pipelined command has answered the injection test; go on.
      if (smtp.starttls_injection !== false) return result('inconclusive', first.failure.reason);
      smtp.error = null;
    } else {
      // Node says "TLSv1" for TLS 1.0.
      const got = first.protocol === 'TLSv1' ? 'TLSv1.0' : first.protocol;
      // Node offered TLS 1.0 to 1.3: the server's choice is its highest.
      if (got && got in VERSION_CODE && got !== 'SSLv2' && got !== 'SSLv3') settle('TLSv1.3', got as ProtocolName);
      nodeChain = first.chain;
    }

    // 2. One hello per protocol not yet settled.
    for (const version of TLS_DOWN) {
      if (version === 'TLSv1.3') {
        // Known true from Node's handshake: step 4 learns its suites and groups anyway.
        if (known[version] !== undefined) continue;
        const flight = await probe(hello(version, candidateSuites(version)));
        known['TLSv1.3'] = flight.version === 0x0304 && flight.cipherSuite !== null;
        if (known['TLSv1.3']) {
          accepted['TLSv1.3'] = [flight.cipherSuite!];
          if (flight.keyShareGroup !== null) groupsFound.push(flight.keyShareGroup);
        }
        continue;
      }
      if (known[version] === false || (known[version] === true && accepted[version]?.length)) continue;
      const flight = await probe(hello(version, candidateSuites(version)));
      const chosen = flight.cipherSuite !== null && flight.version !== null ? protocolOfVersion(flight.version) : null;
      if (chosen && chosen !== 'TLSv1.3' && chosen !== 'SSLv2') {
        settle(version, chosen);
        (accepted[chosen] ??= []).push(flight.cipherSuite!);
        noteFlight(flight);
      } else settle(version, null);
    }
    if (known.SSLv2 === undefined) {
      const flight = await probe(buildSslv2ClientHello(SSLV2_CIPHER_SPECS.map((s) => s.id)));
      known.SSLv2 = flight.outcome === 'sslv2_server_hello' && flight.sslv2CipherSpecs.length > 0;
      if (known.SSLv2 && !certificatesSent && flight.certificates.length) certificatesSent = flight.certificates;
    }
    if (!protocolsSeen()) return result('inconclusive', 'STARTTLS was offered but no TLS or SSL handshake was accepted');
    if (!certificatesSent && !nodeChain.length && known['TLSv1.3']) {
      // TLS 1.3 only, and the first handshake never happened (the server refused the pipelined
      // command): its Certificate message is encrypted, so complete one handshake for the chain.
      const second = await nodeHandshake(target, budget, options, false);
      if (!('failure' in second)) nodeChain = second.chain;
    }

    // 3. Downgrade protection: a hello at the second-highest version, carrying TLS_FALLBACK_SCSV.
    const supported = TLS_DOWN.filter((p) => known[p]);
    const below = supported.find((p) => p !== 'TLSv1.3' && p !== supported[0]);
    if (supported.length >= 2 && below) {
      const flight = await probe(hello(below, candidateSuites(below), { fallbackScsv: true }));
      if (flight.alert?.name === 'inappropriate_fallback') fallbackScsv = true;
      else if (flight.cipherSuite !== null) {
        fallbackScsv = false;
        noteFlight(flight);
      }
    }

    // 4. TLS 1.3 suites (and the groups each HelloRetryRequest names on the way).
    if (known['TLSv1.3']) await enumerateTls13(false);

    // 5. Suites per legacy protocol, with their order of preference.
    for (const version of TLS_DOWN) {
      if (version === 'TLSv1.3' || !known[version]) continue;
      await enumerateSuites(version);
    }

    // 6. The remaining groups: over TLS 1.3 when it is there, else through ECDHE.
    if (known['TLSv1.3']) await enumerateTls13(true);
    else await enumerateLegacyGroups();
  } catch (e) {
    if (e instanceof BudgetExhausted) {
      complete = false;
    } else if (e instanceof ScanStopped) {
      complete = false;
      stopReason = e.why;
      if (!protocolsSeen()) return result('inconclusive', e.why);
    } else throw e;
  }
  return result('ok', complete ? null : stopReason ? `scan stopped early: ${stopReason}` : null);

  async function enumerateTls13(allGroups: boolean) {
    const suites = accepted['TLSv1.3'] ?? [];
    accepted['TLSv1.3'] = suites;
    if (allGroups && tls13.insistsOnKeyShare) return;
    if (!suites.length) {
      // Node got TLS 1.3; find out whether a hello without key shares gets a HelloRetryRequest.
      const flight = await probe(hello('TLSv1.3', candidateSuites('TLSv1.3')));
      if (flight.version === 0x0304 && flight.cipherSuite !== null) {
        suites.push(flight.cipherSuite);
        if (flight.keyShareGroup !== null && !groupsFound.includes(flight.keyShareGroup)) groupsFound.push(flight.keyShareGroup);
      } else {
        // The server insists on a key share: offer a real x25519 one (the handshake is still abandoned).
        const key = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
        const retry = await probe(hello('TLSv1.3', candidateSuites('TLSv1.3'), { keyShares: [{ group: 0x001d, key }], groups: [0x001d] }));
        if (retry.version === 0x0304 && retry.cipherSuite !== null) suites.push(retry.cipherSuite);
        if (!groupsFound.includes(0x001d) && retry.keyShareGroup === 0x001d) groupsFound.push(0x001d);
        preference['TLSv1.3'] = null;
        tls13.insistsOnKeyShare = true;
        return;
      }
    }
    let suitesDone = tls13.suitesDone;
    let groupsDone = tls13.groupsDone;
    while (!suitesDone || (allGroups && !groupsDone)) {
      const offerSuites = suitesDone ? candidateSuites('TLSv1.3') : candidateSuites('TLSv1.3').filter((s) => !suites.includes(s));
      const offerGroups = groupsDone ? TLS13_GROUPS : TLS13_GROUPS.filter((g) => !groupsFound.includes(g));
      if (!offerSuites.length) suitesDone = true;
      if (!offerGroups.length) groupsDone = true;
      if (!offerSuites.length || !offerGroups.length) continue;
      const flight = await probe(hello('TLSv1.3', offerSuites, { groups: offerGroups }));
      const ok = flight.version === 0x0304 && flight.cipherSuite !== null;
      if (ok) {
        const newSuite = !suitesDone && !suites.includes(flight.cipherSuite!);
        const newGroup = !groupsDone && flight.keyShareGroup !== null && !groupsFound.includes(flight.keyShareGroup);
        if (newSuite) suites.push(flight.cipherSuite!);
        if (newGroup) groupsFound.push(flight.keyShareGroup!);
        // A server that answers with something it was not offered would repeat itself: stop asking.
        if (!newSuite && !newGroup) suitesDone = groupsDone = true;
        continue;
      }
      // Refused: the remaining suites or the remaining groups ran out. Which one? Ask with one list full.
      if (suitesDone) groupsDone = true;
      else if (groupsDone) suitesDone = true;
      else {
        const check = await probe(hello('TLSv1.3', offerSuites, { groups: TLS13_GROUPS }));
        if (check.version === 0x0304 && check.cipherSuite !== null) {
          groupsDone = true;
          if (!suites.includes(check.cipherSuite)) suites.push(check.cipherSuite);
        } else suitesDone = true;
      }
    }
    tls13.groupsDone = groupsDone;
    if (tls13.suitesDone) return;
    tls13.suitesDone = true;
    preference['TLSv1.3'] = suites.length >= 2 ? await preferenceOf('TLSv1.3', suites) : null;
  }

  /**
   * The first suite came from the protocol probe, which offered every candidate strongest first. The
   * next probe offers them weakest first: a server that follows the client's order now picks another
   * suite (its weakest: what matters most if the budget runs out), one with its own order picks the same
   * again. Removing the chosen suite and repeating lists the rest, with no separate preference test.
   */
  async function enumerateSuites(version: TlsProtocol) {
    const found = (accepted[version] ??= []);
    const strongFirst = candidateSuites(version);
    const weakFirst = [...strongFirst].reverse();
    const chosen = (flight: ServerFlight) => (flight.cipherSuite !== null && flight.version === VERSION_CODE[version] ? flight.cipherSuite : null);
    if (!found.length) {
      const flight = await probe(hello(version, strongFirst));
      const suite = chosen(flight);
      if (suite === null) return;
      found.push(suite);
      noteFlight(flight);
    }
    const first = found[0]!;
    const reversed = await probe(hello(version, weakFirst));
    const again = chosen(reversed);
    if (again === null) {
      preference[version] = null;
      return;
    }
    noteFlight(reversed);
    const serverOrder = again === first;
    if (!found.includes(again)) found.push(again);
    for (;;) {
      const offer = (serverOrder ? strongFirst : weakFirst).filter((s) => !found.includes(s));
      if (!offer.length) break;
      const flight = await probe(hello(version, offer));
      const suite = chosen(flight);
      if (suite === null || found.includes(suite)) break;
      found.push(suite);
      noteFlight(flight);
    }
    // With two or more suites, the same pick under opposite orders can only be the server's choice.
    preference[version] = found.length >= 2 ? serverOrder : null;
    if (!serverOrder) found.sort((a, b) => strongFirst.indexOf(a) - strongFirst.indexOf(b));
  }

  /** Offers the accepted suites in reverse: a server with its own order still picks its favourite. */
  async function preferenceOf(version: TlsProtocol, found: number[]): Promise<boolean | null> {
    const flight = await probe(hello(version, [...found].reverse()));
    if (version !== 'TLSv1.3') noteFlight(flight);
    if (flight.cipherSuite === found[0]) return true;
    if (flight.cipherSuite === found[found.length - 1]) {
      // The client's order rules: list the suites in our (strongest-first) candidate order.
      const order = candidateSuites(version);
      found.sort((a, b) => order.indexOf(a) - order.indexOf(b));
      return false;
    }
    return null;
  }

  async function enumerateLegacyGroups() {
    const version = TLS_DOWN.find((p) => p !== 'TLSv1.3' && known[p]);
    if (!version) return;
    const ecdhe = (accepted[version] ?? []).filter((s) => /_ECDHE_/.test(cipherSuite(s)?.name ?? ''));
    if (!ecdhe.length) return;
    for (;;) {
      const offer = LEGACY_GROUPS.filter((g) => !groupsFound.includes(g) && groupInfo(g)?.kind === 'ec');
      if (!offer.length) break;
      const flight = await probe(hello(version, ecdhe, { groups: offer }));
      const kx = flight.keyExchange;
      if (kx?.kind !== 'ecdhe' || groupsFound.includes(kx.group)) break;
      noteFlight(flight);
    }
  }
}
