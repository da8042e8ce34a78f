/**
 * libp2p's lock and queue libraries (mortice, it-queue) call `Promise.withResolvers`, which Node.js has from
 * version 22 (ES2024). verinfer supports Node 20, so `HeliaStorage` installs the standard shim when Node lacks
 * it. It only fills in the missing function; where Node has one, Node's is kept.
 */
export function installPromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  if (typeof promise.withResolvers === "function") return;
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const created = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise: created, resolve, reject };
    },
  });
}
