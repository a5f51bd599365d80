/** ZooKeeper's error codes (KeeperException.Code), as sent in a reply header's `err`. */
export const Err = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  RECONFIGDISABLED: -123,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const
export type Err = (typeof Err)[keyof typeof Err]

const names = new Map<number, string>(Object.entries(Err).map(([k, v]) => [v, k]))

/** "NONODE (-101)": for logs and test messages. */
export function errName(code: number): string {
  return `${names.get(code) ?? "UNKNOWN"} (${code})`
}
