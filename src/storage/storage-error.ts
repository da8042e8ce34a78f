import { VerinferError } from "../errors.js";

/** The storage error codes, by the errno that the file system answers with. */
const BY_ERRNO = {
  ENOSPC: "STORAGE_FULL",
  EDQUOT: "STORAGE_FULL",
  EROFS: "STORAGE_READONLY",
  EACCES: "STORAGE_DENIED",
  EPERM: "STORAGE_DENIED",
  EIO: "STORAGE_IO",
} as const;

const SAYS = {
  STORAGE_FULL: "the storage is full",
  STORAGE_READONLY: "the storage is read-only",
  STORAGE_DENIED: "the storage refused access",
  STORAGE_IO: "the storage failed with an I/O error",
} as const;

/** What {@link storageError} was doing, for its message: `"write"`, `"read"`, … and the object's name, if any. */
export interface StorageErrorContext {
  /** The operation, a verb: "write", "read", "create a directory for". */
  op: string;
  /** What was being read or written, by a name that is not a path ("object bafk…", "receipt"). */
  what?: string;
  /** The file: kept in `meta.path` only, never in the message or details (a node passes those to clients). */
  path?: string;
}

/**
 * The typed error of a file system failure that an operator must fix (full, read-only, denied, failing disk):
 * `STORAGE_FULL` (ENOSPC, EDQUOT), `STORAGE_READONLY` (EROFS), `STORAGE_DENIED` (EACCES, EPERM), `STORAGE_IO`
 * (EIO), with `meta.errno` and `meta.path`; the message names the operation and the object, never a path. Any
 * other error is returned as it is (the caller's own handling applies: a missing file is not a storage fault).
 *
 * @example
 * ```ts
 * try { await writeFile(file, bytes); } catch (e) { throw storageError(e, { op: "write", what: "receipt", path: file }); }
 * ```
 */
export function storageError(error: unknown, context: StorageErrorContext): unknown {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno !== "string" || !Object.hasOwn(BY_ERRNO, errno)) return error;
  const code = BY_ERRNO[errno as keyof typeof BY_ERRNO];
  const what = context.what ? ` ${context.what}` : "";
  return new VerinferError(code, `${SAYS[code]}: cannot ${context.op}${what} (${errno})`, {
    cause: error,
    meta: { errno, ...(context.path ? { path: context.path } : {}) },
  });
}

/** Whether an error is one of the storage codes of {@link storageError}. */
export function isStorageFault(error: unknown): error is VerinferError {
  return error instanceof VerinferError && Object.hasOwn(SAYS, error.code);
}
