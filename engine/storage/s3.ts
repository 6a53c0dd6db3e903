/**
 * S3 backend through `@aws-sdk/client-s3`. Endpoint and credentials come from the standard AWS
 * environment (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …), so MinIO,
 * Ceph RGW, moto or R2 work unchanged; path-style addressing is used whenever an endpoint is set.
 * Retries: the SDK's adaptive mode, 6 attempts, exponential backoff on throttling and 5xx.
 * Large writes are multipart uploads (`@aws-sdk/lib-storage`), visible only once completed.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { S3_PART_SIZE, type AtomicWriter, type Backend, type Entry } from './index.ts';

/** True for `s3://` URIs. */
export function isS3(uri: string): boolean {
  return uri.startsWith('s3://');
}

/** Splits `s3://bucket/key` into its parts; a URI without a bucket is an error naming it. */
export function parseS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`invalid S3 URI '${uri}': expected s3://bucket/key`);
  return { bucket: m[1]!, key: m[2]! };
}


function clientFromEnv(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
  return new S3Client({
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint,
    forcePathStyle: endpoint !== undefined,
    maxAttempts: 6,
    retryMode: 'adaptive',
  });
}

/** Wraps an SDK error with the URI and operation; never includes credentials. */
function wrap(op: string, uri: string, e: unknown): Error {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new Error(`S3 ${op} ${uri} failed: ${err.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}`);
}

function notFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}

export class S3Storage implements Backend {
  readonly client = clientFromEnv();

  async exists(uri: string): Promise<boolean> {
    return (await this.stat(uri)) !== null;
  }
  async stat(uri: string): Promise<Entry | null> {
    const { bucket, key } = parseS3(uri);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { uri, size: r.ContentLength ?? 0, version: (r.ETag ?? '').replace(/"/g, '') };
    } catch (e) {
      if (notFound(e)) return null;
      throw wrap('HEAD', uri, e);
    }
  }
  async read(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3(uri);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      throw wrap('GET', uri, e);
    }
  }
  async readStream(uri: string, start?: number, end?: number): Promise<Readable> {
    const { bucket, key } = parseS3(uri);
    if (start !== undefined && end !== undefined && end <= start) return Readable.from([]);
    const range = start !== undefined || end !== undefined ? `bytes=${start ?? 0}-${end !== undefined ? end - 1 : ''}` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      return r.Body as Readable;
    } catch (e) {
      throw wrap('GET', uri, e);
    }
  }
  async write(uri: string, data: Uint8Array | string): Promise<void> {
    const { bucket, key } = parseS3(uri);
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    if (body.byteLength > S3_PART_SIZE) {
      const w = await this.writer(uri);
      await w.write(body);
      return w.commit();
    }
    try {
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } catch (e) {
      throw wrap('PUT', uri, e);
    }
  }
  async writer(uri: string): Promise<AtomicWriter> {
    const { bucket, key } = parseS3(uri);
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({ client: this.client, params: { Bucket: bucket, Key: key, Body: body }, partSize: S3_PART_SIZE, queueSize: 2, leavePartsOnError: false });
    const done = upload.done();
    let failure: unknown;
    done.catch((e) => (failure = e));
    return {
      async write(chunk: Uint8Array) {
        if (failure) throw wrap('upload', uri, failure);
        if (!body.write(chunk)) await new Promise<void>((res) => body.once('drain', res));
      },
      async commit() {
        body.end();
        try {
          await done;
        } catch (e) {
          throw wrap('upload', uri, e);
        }
      },
      async abort() {
        body.destroy();
        await upload.abort().catch(() => {});
        await done.catch(() => {});
      },
    };
  }
  async list(prefix: string): Promise<Entry[]> {
    const { bucket, key } = parseS3(prefix);
    const out: Entry[] = [];
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      } catch (e) {
        throw wrap('LIST', prefix, e);
      }
      for (const o of r.Contents ?? []) {
        // A prefix 'a/b' must not match 'a/bc': keep exact matches and children only.
        if (key && o.Key !== key && !key.endsWith('/') && !o.Key!.startsWith(key + '/')) continue;
        out.push({ uri: `s3://${bucket}/${o.Key}`, size: o.Size ?? 0, version: (o.ETag ?? '').replace(/"/g, '') });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }
  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3(uri);
    try {
      await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }] } }));
    } catch (e) {
      throw wrap('DELETE', uri, e);
    }
  }
  /** Unfinished multipart uploads are invisible to readers and listings: nothing to remove. */
  async removeTemps(_prefix: string): Promise<number> {
    return 0;
  }
  async deletePrefix(prefix: string): Promise<void> {
    const { bucket } = parseS3(prefix);
    const all = await this.list(prefix);
    for (let i = 0; i < all.length; i += 1000) {
      const Objects = all.slice(i, i + 1000).map((e) => ({ Key: parseS3(e.uri).key }));
      try {
        await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
      } catch (e) {
        throw wrap('DELETE', prefix, e);
      }
    }
  }
}
