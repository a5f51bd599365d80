// snappyjs ships no types. It returns the kind of array it was given (Buffer for a Buffer).
declare module "snappyjs" {
  const snappy: {
    compress<T extends Uint8Array>(input: T): T
    uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T
  }
  export = snappy
}
