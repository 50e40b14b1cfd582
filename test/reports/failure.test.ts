import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { isFailureReport, readFailureReport } from '../../src/reports/failure';
import { sampleBytes } from './helpers';

async function factsOf(path: string) {
  const raw = sampleBytes(path);
  const email = await PostalMime.parse(raw);
  expect(isFailureReport(email)).toBe(true);
  return readFailureReport(email, raw);
}

describe('failure (forensic) reports', () => {
  // Values read from the files: Reported-Domain: example.com, Source-IP: 10.10.10.10,
  // Arrival-Date: Tue, 30 Apr 2019 02:09:00 +0000, From: dmarc-noreply@linkedin.com.
  for (const path of ['failure/dmarc_ruf_report_linkedin.eml', 'failure/dmarc_ruf_report_linkedin.crlf.eml']) {
    it(`${path}: reads the ARF fields (the mbox From line does no harm)`, async () => {
      expect(await factsOf(path)).toEqual({
        kind: 'failure',
        domain: 'example.com',
        day: '2019-04-30',
        source_ip: '10.10.10.10',
        reporter: 'linkedin.com',
        feedback_type: 'auth-failure',
        warnings: [],
      });
    });
  }

  // No feedback part: "Sender Domain: example.com", "Sender IP Address: 203.0.113.68",
  // "Received date: Mon, 07 Apr 2025 23:16:09 +0200" (21:16:09 UTC), From: no-reply@node01.mailgate.example.net.
  it('failure/exim_plain_text_only_no_arf_part.eml: reads the free text', async () => {
    expect(await factsOf('failure/exim_plain_text_only_no_arf_part.eml')).toEqual({
      kind: 'failure',
      domain: 'example.com',
      day: '2025-04-07',
      source_ip: '203.0.113.68',
      reporter: 'node01.mailgate.example.net',
      feedback_type: null,
      warnings: ['the report has no machine-readable feedback part; its facts were read from the text'],
    });
  });

  it('falls back to the original From header, the report Date and the Received line', async () => {
    const raw = new TextEncoder().encode(
      [
        'From: reports@receiver.example',
        'Date: Wed, 01 Jan 2025 23:30:00 -0200',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"',
        '',
        '--b',
        'Content-Type: message/feedback-report',
        '',
        'Feedback-Type: auth-failure',
        '',
        '--b',
        'Content-Type: text/rfc822-headers',
        '',
        'Received: from mail.sender.example (mail.sender.example [198.51.100.7])',
        '\tby mx.receiver.example',
        'From: "Someone" <someone@Sender.Example>',
        '',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const email = await PostalMime.parse(raw);
    expect(readFailureReport(email, raw)).toEqual({
      kind: 'failure',
      domain: 'sender.example',
      day: '2025-01-02',
      source_ip: '198.51.100.7',
      reporter: 'receiver.example',
      feedback_type: 'auth-failure',
      warnings: [],
    });
  });

  it('is not fooled by other multipart/report messages', async () => {
    const bounce = await PostalMime.parse(
      'From: mailer-daemon@x.example\r\nSubject: DMARC failure report\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbounced\r\n--b--\r\n',
    );
    expect(isFailureReport(bounce)).toBe(false);
    const tls = await PostalMime.parse(sampleBytes('smtp_tls/google.com_smtp_tls_report.eml'));
    expect(isFailureReport(tls)).toBe(false);
  });
});
