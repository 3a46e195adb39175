import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { GatewayError } from './errors.js';

// Images reach Kiro as base64 bytes with a format of png, jpeg, gif or webp. Clients send data URIs
// (sometimes with a media type that does not match the bytes, which Kiro rejects) or http(s) URLs,
// which Kiro cannot fetch: the gateway downloads those itself, within a size cap and a timeout.

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** The real type of image bytes, from their magic numbers; undefined when none we support. */
export function sniffImageType(bytes: Uint8Array): ImageMediaType | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'image/gif';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) {
    return 'image/webp';
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface ImageBytes {
  mediaType: ImageMediaType;
  /** base64, no prefix */
  data: string;
}

/**
 * Check image bytes and settle their type from the bytes themselves. A declared type that
 * disagrees is corrected; bytes that are no supported image are a 400 naming `param`.
 */
export function checkImage(bytes: Uint8Array, declared: string | undefined, param: string): ImageBytes {
  const actual = sniffImageType(bytes);
  if (!actual) {
    const what = declared ? `declared as ${declared}, but its bytes are not` : 'not';
    throw new GatewayError('invalid_request', `The image is ${what} a PNG, JPEG, GIF or WebP image, the formats Kiro accepts.`, {
      param,
      code: 'invalid_image',
    });
  }
  return { mediaType: actual, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** `data:image/png;base64,...` → checked image bytes. */
export function imageFromDataUri(uri: string, param: string): ImageBytes {
  const match = /^data:([^;,]*)(?:;[^,;]*)*;base64,(.*)$/s.exec(uri);
  if (!match) {
    throw new GatewayError('invalid_request', 'An image data URI must look like data:image/png;base64,<data>.', { param, code: 'invalid_image_url' });
  }
  const data = match[2]!.replace(/\s+/g, '');
  if (!BASE64.test(data) || data.length === 0) {
    throw new GatewayError('invalid_request', 'The image data URI does not hold valid base64.', { param, code: 'invalid_image' });
  }
  return checkImage(Buffer.from(data, 'base64'), match[1]?.toLowerCase() || undefined, param);
}

export interface ImageFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

export type ImageLoader = (url: string, param: string) => Promise<ImageBytes>;

/** Downloads http(s) images for clients that send URLs, within a size cap and a deadline. */
export function createImageLoader(options: ImageFetchOptions): ImageLoader {
  // One pool for all image downloads, following a few redirects (image CDNs redirect a lot).
  const dispatcher = options.dispatcher ?? new Agent({ connections: 16 }).compose(interceptors.redirect({ maxRedirections: 3 }));
  return async (url, param) => {
    const fail = (why: string, code = 'image_download_failed') =>
      new GatewayError('invalid_request', `Could not use the image at ${url.slice(0, 200)}: ${why}. Send it inline as a data URI instead.`, { param, code });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { accept: 'image/png, image/jpeg, image/gif, image/webp' },
        dispatcher,
      });
    } catch (error) {
      const name = (error as Error).name;
      throw fail(name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${options.timeoutMs} ms` : `download failed (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw fail(`the server answered HTTP ${response.statusCode}`);
    }
    const declaredLength = Number(response.headers['content-length']);
    if (declaredLength > options.maxBytes) {
      await response.body.dump();
      throw fail(`it is ${declaredLength} bytes, over the ${options.maxBytes}-byte limit (IMAGE_MAX_BYTES)`, 'image_too_large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > options.maxBytes) {
          response.body.destroy();
          throw fail(`it is over the ${options.maxBytes}-byte limit (IMAGE_MAX_BYTES)`, 'image_too_large');
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw fail(`the download broke off (${(error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message})`);
    }
    const contentType = String(response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    return checkImage(Buffer.concat(chunks), contentType || undefined, param);
  };
}
