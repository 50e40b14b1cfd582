/**
 * The SMTP TLS lab's facts as tests see them (docs/smtp-lab.md): `setups.json` with absolute paths,
 * provided by `global-setup.ts` as `inject('smtpLab')`.
 */
import { inject } from 'vitest';
import type { ProtocolName } from '../../../src/tls/probe-result.ts';

export type SetupName = 'modern' | 'legacy' | 'nostarttls' | 'expired' | 'wrongname' | 'selfsigned' | 'drop' | 'busy';

export interface LabCertificate {
  /** Absolute path of the chain as the server sends it (PEM, leaf first). */
  file: string;
  chain_length: number;
  subject_cn: string;
  san_dns: string[];
  /** ISO 8601 UTC. */
  not_before: string;
  not_after: string;
  /** Verifies against the lab CA (`ca_file`) today: false when expired or self-signed. */
  trusted_by_lab_ca: boolean;
  expired: boolean;
  /** The certificate names the set-up's MX host. */
  name_matches: boolean;
  self_signed: boolean;
}

export interface LabSetup {
  name: SetupName;
  /** 127.0.25.x; the server listens on port 25 of it. */
  ip: string;
  port: number;
  /** The MX host name (A record → ip in the DNS lab zone tls.lab.mailcheck.test). */
  host: string;
  /** The mail domain whose only MX is `host`. */
  domain: string;
  /** "postfix", or what the non-Postfix server does. */
  server: string;
  starttls: boolean;
  /** Protocols the server accepts; every other one of PROTOCOLS it refuses. */
  protocols: ProtocolName[];
  /** The server chooses the suite by its own order (true), by the client's (false); null without TLS. */
  server_preference: boolean | null;
  /** Accepted suites per protocol; in the server's order when server_preference is true. */
  cipher_suites: Partial<Record<ProtocolName, { id: string; name: string }[]>>;
  /** Named groups accepted for ECDHE (IANA names). */
  groups: string[];
  /** Finite-field DH size of the DHE suites, null when there are none. */
  dh_bits: number | null;
  certificate: LabCertificate | null;
  /** TLSA at `_25._tcp.<host>` in the (signed) lab zone, as "usage selector type hex". */
  dane: { name: string; records: string[]; matches: boolean } | null;
}

export interface SmtpLab {
  zone: string;
  /** The lab root CA (PEM) for `--ca-file`: the leaves chain to it through certs/intermediate.pem. */
  ca_file: string;
  certs_dir: string;
  run_dir: string;
  setups: LabSetup[];
}

/** The running lab; throws start.sh's error when the lab could not start, so the test fails with it. */
export function smtpLab(): SmtpLab {
  const lab = inject('smtpLab');
  if (!lab) throw new Error(inject('smtpLabError') || 'the SMTP lab is not running');
  return lab;
}

export function labSetup(name: SetupName): LabSetup {
  const found = smtpLab().setups.find((s) => s.name === name);
  if (!found) throw new Error(`no set-up ${name} in the SMTP lab`);
  return found;
}
