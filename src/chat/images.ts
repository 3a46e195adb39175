import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import { Agent, request, type Dispatcher } from 'undici';
import { GatewayError } from './errors.js';

// Images reach Kiro as base64 bytes with a format of png, jpeg, gif or webp. Clients send data URIs
// (sometimes with a media type that does not match the bytes, which Kiro rejects) or http(s) URLs,
// which Kiro cannot fetch: the gateway downloads those itself — and so must never become a way
// into the network it runs in (server-side request forgery).

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

/** Loads the image at an http(s) URL for one request; `param` names it in errors. */
export type ImageLoader = (url: string, param: string) => Promise<ImageBytes>;

// ---------------------------------------------------------------- where a download may go

/**
 * Only plain public unicast addresses: never loopback, private, link-local, unique-local,
 * carrier-grade NAT, multicast, unspecified, reserved or documentation ranges, and no IPv6 form
 * that wraps an IPv4 address (mapped, 6to4, NAT64, Teredo) — those are judged by what they wrap,
 * or refused.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

const REFUSED = 'it points into a private network (loopback, private, link-local or similar addresses are refused; IMAGE_URL_ALLOW_PRIVATE=true allows them)';

class RefusedDestination extends Error {
  readonly code = 'EREFUSEDDESTINATION';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, options: LookupOptions & { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A dns.lookup that fails for any name resolving to an address `allowed` refuses. It runs when
 * the connection is made, so a name that resolved to a public address a moment ago and to
 * loopback now (DNS rebinding) is still refused.
 */
function guardedLookup(allowed: (address: string) => boolean, resolve: Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, list) => {
      if (error) return callback(error, []);
      if (list.length === 0 || list.some((a) => !allowed(a.address))) return callback(new RefusedDestination(REFUSED), []);
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export interface ImageFetchOptions {
  /** Largest single image, in bytes. */
  maxBytes: number;
  timeoutMs: number;
  /** Downloads one request may make, and their total bytes. */
  maxPerRequest: number;
  maxTotalBytes: number;
  /** Let downloads reach loopback and private addresses (IMAGE_URL_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Which addresses a download may reach (default: isPublicAddress). For tests. */
  addressAllowed?: (address: string) => boolean;
  /** How host names are resolved (default: dns.lookup). For tests. */
  resolve?: Resolver;
}

const MAX_REDIRECTS = 3;

/**
 * Downloads http(s) images for clients that send URLs: only http(s), only public addresses
 * (checked before connecting, at connect time and after every redirect), within a size cap, a
 * deadline and a per-request budget, abandoned when the client goes away. Images seen recently
 * are not downloaded again: agents resend their whole history, images included, every turn.
 */
export class ImageFetcher {
  private readonly dispatcher: Dispatcher;
  private readonly recent = new LRUCache<string, ImageBytes>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (image) => image.data.length + 64, ttl: 15 * 60_000 });

  private readonly allowed: (address: string) => boolean;

  constructor(private readonly options: ImageFetchOptions) {
    this.allowed = options.addressAllowed ?? isPublicAddress;
    const lookup = guardedLookup(options.allowPrivate ? () => true : this.allowed, options.resolve ?? (dnsLookup as unknown as Resolver));
    this.dispatcher = new Agent({ connections: 16, connect: { lookup } });
  }

  /** A loader for one request: its downloads count against one budget and stop when `signal` aborts. */
  forRequest(signal: AbortSignal): ImageLoader {
    let downloads = 0;
    let bytes = 0;
    return async (url, param) => {
      const cached = this.recent.get(url);
      if (cached) return cached;
      const fail = (why: string, code = 'image_download_failed') =>
        new GatewayError('invalid_request', `Could not use the image at ${url.slice(0, 200)}: ${why}. Send it inline as a data URI instead.`, { param, code });
      if (++downloads > this.options.maxPerRequest) {
        throw fail(`a request may have at most ${this.options.maxPerRequest} images downloaded (IMAGE_MAX_PER_REQUEST)`, 'too_many_images');
      }
      const budget = Math.min(this.options.maxBytes, this.options.maxTotalBytes - bytes);
      const image = await this.download(url, param, budget, signal, fail);
      bytes += Buffer.byteLength(image.data, 'base64');
      this.recent.set(url, image);
      return image;
    };
  }

  private async download(url: string, param: string, budget: number, clientSignal: AbortSignal, fail: (why: string, code?: string) => GatewayError): Promise<ImageBytes> {
    const signal = AbortSignal.any([clientSignal, AbortSignal.timeout(this.options.timeoutMs)]);
    let target = url;
    for (let hop = 0; ; hop++) {
      const where = this.checkUrl(target);
      if (where) throw fail(where, 'image_url_refused');
      let response: Dispatcher.ResponseData;
      try {
        response = await request(target, { method: 'GET', signal, headers: { accept: 'image/png, image/jpeg, image/gif, image/webp' }, dispatcher: this.dispatcher });
      } catch (error) {
        if (clientSignal.aborted) throw clientSignal.reason ?? error;
        if (isRefused(error)) throw fail(REFUSED, 'image_url_refused');
        const name = (error as Error).name;
        // Nothing about the connection itself is told: that would map the network for a prober.
        throw fail(name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${this.options.timeoutMs} ms` : 'the download failed');
      }
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && location) {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`);
        try {
          target = new URL(String(location), target).href;
        } catch {
          throw fail('it redirects to an invalid URL');
        }
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw fail(`the server answered HTTP ${response.statusCode}`);
      }
      return this.readImage(response, param, budget, clientSignal, fail);
    }
  }

  /** Why `url` may not be fetched, or undefined. Literal addresses are judged here (no lookup happens for them). */
  private checkUrl(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'it is not a valid URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'only http and https URLs are fetched';
    if (this.options.allowPrivate) return undefined;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (ipaddr.isValid(host) && !this.allowed(host)) return REFUSED;
    return undefined;
  }

  private async readImage(response: Dispatcher.ResponseData, param: string, budget: number, clientSignal: AbortSignal, fail: (why: string, code?: string) => GatewayError): Promise<ImageBytes> {
    const tooLarge = () => fail(`it is over the ${budget}-byte limit (IMAGE_MAX_BYTES, IMAGE_MAX_TOTAL_BYTES)`, 'image_too_large');
    if (Number(response.headers['content-length']) > budget) {
      response.body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > budget) {
          response.body.destroy();
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (clientSignal.aborted) throw clientSignal.reason ?? error;
      throw fail((error as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : 'the download broke off');
    }
    const contentType = String(response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    return checkImage(Buffer.concat(chunks), contentType || undefined, param);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

const isRefused = (error: unknown): boolean => {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) if (e instanceof RefusedDestination) return true;
  return false;
};
