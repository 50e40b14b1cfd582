import PostalMime, { type Email } from 'postal-mime';

/** One thing in an email that might be a report: an attachment, or a body that is XML/JSON. */
export interface EmailBlob {
  name: string | null;
  bytes: Uint8Array;
}

/** Forwarded reports arrive as attached messages; deeper than this nothing legitimate nests. */
const MAX_ATTACHED_MESSAGE_DEPTH = 3;

export async function parseEmail(raw: Uint8Array): Promise<Email> {
  return PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
}

/**
 * Every attachment (also those of attached `message/rfc822` messages, e.g. a forwarded report)
 * and any body that is itself a report. MIME types and file names are not trusted: the caller
 * sniffs the bytes. The text/plain cover letter is left out unless it starts like XML or JSON.
 */
export async function emailBlobs(email: Email, depth = 0): Promise<EmailBlob[]> {
  const blobs: EmailBlob[] = [];
  const body = email.text?.trimStart() ?? '';
  if (body.startsWith('<') || body.startsWith('{')) {
    blobs.push({ name: null, bytes: new TextEncoder().encode(body) });
  }
  for (const attachment of email.attachments) {
    const bytes = contentBytes(attachment.content);
    if (attachment.mimeType === 'message/rfc822' && depth < MAX_ATTACHED_MESSAGE_DEPTH) {
      const inner = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' }).catch(() => null);
      if (inner) {
        blobs.push(...(await emailBlobs(inner, depth + 1)));
        continue;
      }
    }
    blobs.push({ name: attachment.filename, bytes });
  }
  return blobs;
}

function contentBytes(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/** The value of the message's top-level Content-Type header, lower-cased. */
export function contentTypeOf(email: Email): string {
  return (email.headers.find((h) => h.key === 'content-type')?.value ?? '').toLowerCase();
}
