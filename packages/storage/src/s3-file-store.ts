import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { FileStore } from "./file-store.js";

export function createS3FileStore(client: S3Client, bucket: string): FileStore {
  return {
    async putFile(key, localPath, contentType) {
      const { size } = await stat(localPath);
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(localPath), ContentLength: size, ContentType: contentType }),
      );
    },
    async getStream(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body as Readable;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}
