--------------------------- MODULE ReplicationZoo ---------------------------
(***************************************************************************)
(* Spec-level mutants of Replication.tla for the bug zoo. Each operator    *)
(* below replaces one of Replication's choice points (with `Op <- Mutant`  *)
(* in a config written by test/zoo/replication-spec-mutants.test.ts),      *)
(* reintroducing a known replication mistake; TLC must then find an        *)
(* invariant violation with the CI model (spec/Replication.cfg).           *)
(*                                                                         *)
(* The fifth mutant, unclean leader election, needs no operator: the test  *)
(* sets the constant Unclean to TRUE.                                      *)
(***************************************************************************)
EXTENDS Replication

\* Pre-KIP-101: a restarted replica truncates its log to its HW before it
\* fetches. Its HW may lag behind records that are committed (and
\* acknowledged): a follower learns the HW one fetch late. Override:
\* RestartLog <- TruncateToHw.
TruncateToHw(lg, h) == Prefix(lg, Min(h, Len(lg)))

\* Without KIP-279's min: the follower truncates to the leader's end of the
\* diverging epoch, though its own records of that epoch may end earlier
\* and be followed by records of later epochs the leader does not have.
\* Override: TruncationPoint <- LeaderEndOnly.
LeaderEndOnly(lg, divEpoch, divEnd) == Min(divEnd, Len(lg))

\* acks=all answered whatever the size of the ISR: with the ISR shrunk to
\* the leader alone, an acknowledged write is on one disk. Override:
\* EnoughIsr <- AnyIsr.
AnyIsr(isr) == TRUE

\* The HW over the committed ISR only, ignoring an expansion in flight
\* (KIP-497): the controller may apply the expansion, and elect the new
\* member, which lacks records the HW already covered. Override:
\* MaximalIsr <- CommittedIsrOnly.
CommittedIsrOnly(isr, pending) == isr

\* A FetchResponse matched to the fetch in flight by its offset alone
\* (PROTOCOL.md before the fix TLC prompted): a duplicated or delayed
\* Diverging answer to an earlier fetch from the same offset truncates the
\* log the follower has since caught up, below what the leader counts for
\* it. Override: AnswersFetch <- OffsetOnly, and ResponseMayMatch <-
\* AnyOffsetMayMatch (the VIEW must keep such answers, which the fixed
\* protocol can never take again).
OffsetOnly(m, lg) == m.fetchOffset = Len(lg)
AnyOffsetMayMatch(m) == TRUE
=============================================================================
