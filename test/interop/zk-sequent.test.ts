// The same ZooKeeper client-interop suites that pass against Apache ZooKeeper
// (zk-apache.test.ts), run against real Sequent processes over TCP: node-zookeeper-client and the
// official Java client (built from Maven Central in the test run), a single node for most checks
// and a 3-node ensemble for the check that kills the client's server.
import { defineZkInteropSuites } from "./zk/define-suites.ts";

defineZkInteropSuites("sequent", "ZooKeeper interop suites vs Sequent");
