import { gunzipSync } from 'fflate';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { ReportRejection } from '../../src/reports/model';
import { parseSmtpTlsReport } from '../../src/reports/tlsrpt';
import { sampleBytes, sampleText } from './helpers';

function rejectionOf(json: string): ReportRejection {
  try {
    parseSmtpTlsReport(json);
  } catch (error) {
    if (error instanceof ReportRejection) return error;
    throw error;
  }
  throw new Error('the report was accepted');
}

describe('smtp_tls/rfc8460.json (the RFC 8460 example)', () => {
  it('maps every field', () => {
    const report = parseSmtpTlsReport(sampleText('smtp_tls/rfc8460.json'));
    expect(report).toMatchObject({
      kind: 'smtp_tls',
      org_name: 'Company-X',
      org_email: 'sts-reporting@company-x.example',
      report_id: '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
      begin: '2016-04-01T00:00:00Z',
      end: '2016-04-01T23:59:59Z',
      warnings: [],
    });
    expect(report.policies).toHaveLength(1);
    const policy = report.policies[0]!;
    expect(policy).toMatchObject({
      policy_type: 'sts',
      policy_string: ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
      policy_domain: 'company-y.example',
      mx_host: ['*.mail.company-y.example'],
      total_successful_session_count: 5326,
      total_failure_session_count: 303,
    });
    expect(policy.failure_details).toEqual([
      {
        result_type: 'certificate-expired',
        sending_mta_ip: '2001:db8:abcd:0012::1',
        receiving_mx_hostname: 'mx1.mail.company-y.example',
        receiving_mx_helo: null,
        receiving_ip: null,
        failed_session_count: 100,
        additional_information: null,
        failure_reason_code: null,
      },
      {
        result_type: 'starttls-not-supported',
        sending_mta_ip: '2001:db8:abcd:0013::1',
        receiving_mx_hostname: 'mx2.mail.company-y.example',
        receiving_mx_helo: null,
        receiving_ip: '203.0.113.56',
        failed_session_count: 200,
        additional_information: 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported',
        failure_reason_code: null,
      },
      {
        result_type: 'validation-failure',
        sending_mta_ip: '198.51.100.62',
        receiving_mx_hostname: 'mx-backup.mail.company-y.example',
        receiving_mx_helo: null,
        receiving_ip: '203.0.113.58',
        failed_session_count: 3,
        additional_information: null,
        failure_reason_code: 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED',
      },
    ]);
  });
});

describe('smtp_tls/google.com_smtp_tls_report.eml (the gzip attachment, opened here by hand)', () => {
  it('maps the no-policy-found report', async () => {
    const email = await PostalMime.parse(sampleBytes('smtp_tls/google.com_smtp_tls_report.eml'));
    const attachment = email.attachments.find((a) => a.filename?.endsWith('.json.gz'));
    const json = new TextDecoder().decode(gunzipSync(new Uint8Array(attachment!.content as ArrayBuffer)));
    expect(parseSmtpTlsReport(json)).toEqual({
      kind: 'smtp_tls',
      report_id: '2024-09-03T00:00:00Z_cardinalhealth.ca',
      org_name: 'Google Inc.',
      org_email: 'smtp-tls-reporting@google.com',
      begin: '2024-09-03T00:00:00Z',
      end: '2024-09-03T23:59:59Z',
      policies: [
        {
          policy_type: 'no-policy-found',
          policy_string: [],
          policy_domain: 'cardinalhealth.ca',
          mx_host: [],
          total_successful_session_count: 48,
          total_failure_session_count: 0,
          failure_details: [],
        },
      ],
      warnings: [],
    });
  });
});

describe('tolerance and refusals', () => {
  const base = {
    'organization-name': 'Org',
    'date-range': { 'start-datetime': '2024-01-01T00:00:00Z', 'end-datetime': '2024-01-01T23:59:59.000Z' },
    'contact-info': 'mailto:tls@org.example',
    'report-id': 'id-1',
    policies: [{ policy: { 'policy-type': 'STS', 'policy-domain': 'Example.COM', 'mx-host': ['mx1.example.com', 'mx2.example.com'] }, summary: {} }],
  };

  it('normalises case, mailto:, list fields and missing counts (with warnings)', () => {
    const report = parseSmtpTlsReport(JSON.stringify(base));
    expect(report.org_email).toBe('tls@org.example');
    expect(report.end).toBe('2024-01-01T23:59:59Z');
    expect(report.policies[0]).toMatchObject({
      policy_type: 'sts',
      policy_domain: 'example.com',
      mx_host: ['mx1.example.com', 'mx2.example.com'],
      total_successful_session_count: 0,
      total_failure_session_count: 0,
    });
    expect(report.warnings).toEqual([
      'policy 0 has no total-successful-session-count; 0 was assumed',
      'policy 0 has no total-failure-session-count; 0 was assumed',
    ]);
  });

  it('skips a policy without policy-domain and a failure detail without result-type', () => {
    const report = parseSmtpTlsReport(
      JSON.stringify({
        ...base,
        policies: [
          { policy: { 'policy-type': 'sts' }, summary: {} },
          {
            policy: { 'policy-type': 'tlsa', 'policy-domain': 'a.example' },
            summary: { 'total-successful-session-count': 1, 'total-failure-session-count': 2 },
            'failure-details': [{ 'failed-session-count': 2 }],
          },
        ],
      }),
    );
    expect(report.policies.map((p) => p.policy_domain)).toEqual(['a.example']);
    expect(report.policies[0]?.failure_details).toEqual([]);
    expect(report.warnings).toEqual([
      'policy 0 was skipped: it has no policy-domain',
      'policy 1 failure-details 0 was skipped: it has no result-type',
    ]);
  });

  it('falls back to the contact domain when organization-name is missing', () => {
    const { 'organization-name': _, ...rest } = base;
    const report = parseSmtpTlsReport(JSON.stringify(rest));
    expect(report.org_name).toBe('org.example');
  });

  it('rejects what is not an SMTP TLS report', () => {
    expect(rejectionOf('not json').code).toBe('invalid-report');
    expect(rejectionOf('[1,2]').message).toMatch(/not a JSON object/);
    const { 'report-id': _, ...noId } = base;
    expect(rejectionOf(JSON.stringify(noId)).message).toMatch(/report-id/);
    expect(rejectionOf(JSON.stringify({ ...base, 'date-range': { 'start-datetime': 'soon', 'end-datetime': 'later' } })).message).toMatch(
      /start-datetime "soon" is not a date/,
    );
    expect(rejectionOf(JSON.stringify({ ...base, policies: undefined })).message).toMatch(/policies/);
  });
});
