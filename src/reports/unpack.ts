/** Decompression of report files with bomb caps: sniffing, gzip and zip, all streamed. */
export { DEFAULT_UNPACK_LIMITS, type UnpackLimits } from './unpack/limits';
export { sniffContainer, type Container } from './unpack/sniff';
export { gunzipChunks } from './unpack/gunzip';
export { unzipEntries, type ZipEntry } from './unpack/unzip';
export type { ChunkStream } from './unpack/chunk-stream';
