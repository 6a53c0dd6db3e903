/**
 * S3 backend through `@aws-sdk/client-s3`. Endpoint and credentials come from the standard AWS
 * environment (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …), so MinIO,
 * Ceph RGW, moto or R2 work unchanged; path-style addressing is used whenever an endpoint is set.
 * Retries: the SDK's adaptive mode, 6 attempts, exponential backoff on throttling and 5xx.
 * Large writes are multipart uploads (`@aws-sdk/lib-storage`), visible only once completed; the
 * part size is `$SLUICE_S3_PART_SIZE` (default 16 MiB, see `s3PartSize`). A process killed
 * mid-upload leaves an unfinished multipart upload: invisible to readers and listings, but its
 * parts are stored (and billed) until aborted. `removeTemps` aborts those under a prefix; the
 * runner calls it on a stage's directory before running its tasks and before writing its manifest.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import type { AtomicWriter, Backend, Entry } from './index.ts';

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

import { s3PartSize } from './s3-parts.ts';
export { S3_MAX_PART_SIZE, S3_MIN_PART_SIZE, S3_PART_SIZE, s3PartSize } from './s3-parts.ts';

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

/** True when `key` is `prefix` itself or lies under it: a prefix 'a/b' must not match 'a/bc'. */
function underPrefix(key: string, prefix: string): boolean {
  return !prefix || key === prefix || prefix.endsWith('/') || key.startsWith(prefix + '/');
}

export class S3Storage implements Backend {
  readonly client = clientFromEnv();
  /** Validated once, when the first s3:// URI is used: a bad value fails before any upload starts. */
  readonly partSize = s3PartSize();

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
    if (body.byteLength > this.partSize) {
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
    const upload = new Upload({ client: this.client, params: { Bucket: bucket, Key: key, Body: body }, partSize: this.partSize, queueSize: 2, leavePartsOnError: false });
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
        if (!underPrefix(o.Key!, key)) continue;
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
  /**
   * Aborts every unfinished multipart upload under `prefix` (what a killed writer leaves: no
   * visible object, but stored parts) and returns how many. Call it only when no writer of this
   * prefix is running: it aborts live uploads too, as S3 cannot tell them apart.
   */
  async removeTemps(prefix: string): Promise<number> {
    const { bucket, key } = parseS3(prefix);
    const uploads: { Key: string; UploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      } catch (e) {
        throw wrap('LIST uploads', prefix, e);
      }
      for (const u of r.Uploads ?? []) if (u.Key && u.UploadId && underPrefix(u.Key, key)) uploads.push({ Key: u.Key, UploadId: u.UploadId });
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      uploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
    } while (keyMarker);
    let aborted = 0;
    for (const u of uploads) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
        aborted++;
      } catch (e) {
        // Gone already (completed or aborted by another cleaner): nothing left to remove.
        if ((e as { name?: string }).name === 'NoSuchUpload') continue;
        throw wrap('ABORT upload', `s3://${bucket}/${u.Key}`, e);
      }
    }
    return aborted;
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
