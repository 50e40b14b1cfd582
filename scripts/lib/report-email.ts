/** Builds report emails the way receivers send them; used by tests, `npm start` and the benchmark. */

export interface Attachment {
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

function base64Lines(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return (btoa(binary).match(/.{1,76}/g) ?? []).join('\r\n');
}

/** A report email as receivers send them: a short text part and the report as a base64 attachment. */
export function reportEmail(attachments: Attachment[], options: { from?: string; to?: string; subject?: string } = {}): Uint8Array {
  const boundary = `b-${crypto.randomUUID()}`;
  const parts = [
    `From: ${options.from ?? 'noreply-dmarc@receiver.example'}`,
    `To: ${options.to ?? 'rua@reports.example'}`,
    `Subject: ${options.subject ?? 'Report Domain: example.com Submitter: receiver.example'}`,
    `Message-ID: <${crypto.randomUUID()}@receiver.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'This is an aggregate report.',
  ];
  for (const a of attachments) {
    parts.push(
      `--${boundary}`,
      `Content-Type: ${a.contentType}; name="${a.filename}"`,
      `Content-Disposition: attachment; filename="${a.filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(a.bytes),
    );
  }
  parts.push(`--${boundary}--`, '');
  return new TextEncoder().encode(parts.join('\r\n'));
}
