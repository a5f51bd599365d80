------------------------------ MODULE ZabZoo ------------------------------
(***************************************************************************)
(* Spec-level mutants for the bug zoo. Each operator below replaces one of *)
(* Zab's (with `Op <- Mutant` in a config written by                       *)
(* test/zoo/spec-mutants.test.ts), reintroducing a protocol mistake; TLC   *)
(* must then find an invariant violation with the CI model (spec/Zab.cfg). *)
(***************************************************************************)
EXTENDS Zab

\* The leader never notices a follower with a newer history in discovery,
\* so it may establish an epoch without entries that were committed.
\* (The implementation's election makes this hard to reach in simulation:
\* the spec, where any node may be elected, shows the check is necessary.)
NeverNewer(ce1, z1, ce2, z2) == FALSE

\* Half the voters (rounded down) count as a quorum: two "quorums" need
\* not intersect.
HalfIsQuorum(S) == 2 * Cardinality(S \cap Server) >= Cardinality(Server) - 1
=============================================================================
