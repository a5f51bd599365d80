// Runs the ZooKeeper client-interop suites (node-zookeeper-client and the official Java client)
// against real Apache ZooKeeper, fetched from Maven Central: this proves the suites themselves
// right, so that a failure against Sequent means Sequent differs from ZooKeeper.
//
// Standalone ZooKeeper for most checks; a 3-server ensemble for the server-kill check. Skipped
// only when Apache ZooKeeper cannot be fetched (no java/mvn, or Maven cannot reach its
// repository); any other failure to resolve it fails this file.

import { execFileSync } from "node:child_process";

import { apacheZooKeeperClasspath, apacheZooKeeperVersion } from "./zk/apache.ts";
import { defineZkInteropSuites } from "./zk/define-suites.ts";

const NETWORK_TROUBLE =
  /Could not transfer|UnknownHost|Unknown host|Connection refused|Connect to .* failed|Network is unreachable|timed out|No route to host|Temporary failure in name resolution/i;

/** undefined if Apache ZooKeeper is usable, else why it cannot be fetched. */
async function whyApacheUnavailable(): Promise<string | undefined> {
  for (const tool of ["java", "mvn"]) {
    try {
      execFileSync(tool, ["-version"], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed`;
    }
  }
  try {
    await apacheZooKeeperClasspath();
    return undefined;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (NETWORK_TROUBLE.test(msg)) return `Maven could not fetch Apache ZooKeeper: ${msg.split("\n")[0]}`;
    throw e; // a broken pom or version is a bug, not an environment limit
  }
}

const unavailable = await whyApacheUnavailable();
if (unavailable) console.warn(`[zk-apache] skipped: ${unavailable}`);

defineZkInteropSuites("apache", `ZooKeeper interop suites vs Apache ZooKeeper ${apacheZooKeeperVersion()}`, !!unavailable);
