----------------------------- MODULE Replication -----------------------------
(***************************************************************************)
(* Sequent's Kafka-style ISR replication of one partition. The contract    *)
(* this module follows is core/replication/PROTOCOL.md; every action below *)
(* is one bullet of that document, with the same name, so that simulator   *)
(* traces of core/replication can be validated against it.                *)
(*                                                                         *)
(* What is modelled:                                                       *)
(*   - the controller: the partition state (leader, leaderEpoch, isr,      *)
(*     partitionEpoch) in a register that never loses a write, its view    *)
(*     of broker sessions (live), BrokerDown/BrokerUp and the              *)
(*     AlterPartition compare-and-set;                                     *)
(*   - replicas: leader and follower roles, the fetch protocol with its    *)
(*     divergence check (KIP-320/KIP-595, follower truncation as in        *)
(*     KIP-279), the high watermark over the maximal ISR (KIP-497), ISR    *)
(*     shrink and expand, acks=all acknowledgements;                       *)
(*   - durability: each replica has a durable prefix of its log; a crash   *)
(*     keeps only that prefix. A follower fetches again only once its log  *)
(*     is durable ("persist before fetch"), so every fetch offset it       *)
(*     reports is backed by its disk;                                      *)
(*   - zombies: BrokerDown is the controller's view only, so a leader      *)
(*     whose session expired may go on running in its old epoch.           *)
(*                                                                         *)
(* What is abstracted:                                                     *)
(*   - The network is the set msgs of every message ever sent. A receive   *)
(*     action reads any message of msgs and never removes it, so loss,     *)
(*     duplication and reordering are all free. Error answers              *)
(*     (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER) *)
(*     carry no state and are not modelled: the request is just not        *)
(*     answered, and a later state (a new LeaderAndIsr) moves things on.   *)
(*   - Time: lag is nondeterministic (a leader may shrink any follower at  *)
(*     any time), timers are the resend actions. Safety only.              *)
(*   - Clients: Produce appends a value (each value once, the ghost        *)
(*     produced); acks=0 and acks=1 need no state; acks=all success is     *)
(*     AckAll, which records the write in the ghost acked.                 *)
(*   - Log start offsets and retention: the log starts at offset 0.        *)
(*                                                                         *)
(* Offsets are 0-based as in Kafka: offset i is log[r][i + 1].            *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets, TLC

CONSTANTS
    Replica,    \* replica (broker) ids, naturals
    Value,      \* what producers write
    MaxEpoch,   \* bound on leader epochs (model checking only)
    MinIsr,     \* min.insync.replicas
    Unclean,    \* unclean.leader.election.enable
    None        \* "no leader"

\* Replica ids are only compared for equality: numbers (trace validation)
\* or model values (model checking, with symmetry).
ASSUME ReplicaAssumption == IsFiniteSet(Replica) /\ Replica /= {}
ASSUME ParamAssumption ==
    /\ MaxEpoch \in Nat
    /\ MinIsr \in Nat \ {0}
    /\ Unclean \in BOOLEAN
    /\ None \notin Replica

Min(a, b) == IF a <= b THEN a ELSE b
Max(a, b) == IF a >= b THEN a ELSE b
MinOf(S) == CHOOSE x \in S : \A y \in S : x <= y
MaxOf(S) == CHOOSE x \in S : \A y \in S : x >= y

Record == [epoch : Nat, value : Value]
Roles == {"Leader", "Follower", "Offline"}

-----------------------------------------------------------------------------
(* The epoch cache, read off a log (PROTOCOL.md: it is not separate state).*)

\* Epoch of the last record, -1 for an empty log (Kafka's lastFetchedEpoch).
LastEpoch(lg) == IF lg = << >> THEN -1 ELSE lg[Len(lg)].epoch

\* endOffsetFor(e): the largest epoch <= e among the records (-1 if none)
\* and the offset where the records of larger epochs start (Len(lg) if
\* none). For an e below every epoch of the log this is [-1, 0]: Kafka's
\* UNDEFINED ([-1, -1]) carries no more information here, and keeping the
\* end an offset makes the follower's truncation point (below) a plain min.
EndOffsetFor(lg, e) ==
    LET older == {i \in 1..Len(lg) : lg[i].epoch <= e}
        newer == {i \in 1..Len(lg) : lg[i].epoch > e}
    IN  [epoch |-> IF older = {} THEN -1
                   ELSE MaxOf({lg[i].epoch : i \in older}),
         end   |-> IF newer = {} THEN Len(lg) ELSE MinOf(newer) - 1]

Prefix(lg, n) == SubSeq(lg, 1, n)

-----------------------------------------------------------------------------
(* The protocol's choice points. The spec mutants of zoo/ReplicationZoo    *)
(* replace these operators (CONSTANT Op <- Mutant in a config).            *)

\* KIP-279: a follower told Diverging(divEpoch, divEnd) truncates to the
\* smaller of the leader's end for that epoch and its own: beyond its own
\* end it holds records of later epochs, which the leader's end says
\* nothing about.
TruncationPoint(lg, divEpoch, divEnd) == Min(divEnd, EndOffsetFor(lg, divEpoch).end)

\* KIP-101: a restarted replica keeps its whole (durable) log; the
\* divergence check of its first fetches truncates what must go. Never
\* "truncate to the HW": the HW checkpoint may lag behind committed records.
RestartLog(lg, h) == lg

\* The follower takes a FetchResponse m only as the answer to the fetch it
\* has in flight: besides leader and epoch, m echoes the fetchOffset and
\* the lastFetchedEpoch the follower would send now (see HandleFetchResponse).
AnswersFetch(m, lg) ==
    /\ m.fetchOffset = Len(lg)
    /\ m.lastFetchedEpoch = LastEpoch(lg)

\* acks=all is answered only while the ISR has at least MinIsr members.
EnoughIsr(isr) == Cardinality(isr) >= MinIsr

\* KIP-497: while an ISR change is in flight, both the committed and the
\* proposed ISR must hold a record before it counts as committed.
MaximalIsr(isr, pending) == isr \cup pending

-----------------------------------------------------------------------------
VARIABLES
    ctrl,               \* the controller's partition state
    live,               \* the controller's view of broker sessions
    log,                \* replica: its log, a sequence of Records
    durable,            \* replica: length of the prefix of log on disk
    hw,                 \* replica: high watermark
    role,               \* replica: "Leader", "Follower" or "Offline"
    repEpoch,           \* replica: leaderEpoch of the newest LeaderAndIsr accepted
    repLeader,          \* replica: leader of that LeaderAndIsr
    repIsr,             \* replica (used as leader): committed ISR as last heard
    repPartitionEpoch,  \* replica (used as leader): its partitionEpoch
    pendingIsr,         \* leader: ISR of the AlterPartition in flight, {} = none
    leaderStart,        \* leader: its LEO when it became leader
    followerEnd,        \* leader: followerEnd[l][f], offset f last fetched from
    fetching,           \* follower: a fetch is outstanding
    msgs,               \* every message ever sent
    acked,              \* ghost: [offset, value] acknowledged with acks=all
    produced            \* ghost: values produced so far

ctrlVars == <<ctrl, live>>
replicaVars == <<log, durable, hw, role, repEpoch, repLeader, repIsr,
                 repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                 fetching>>
vars == <<ctrl, live, log, durable, hw, role, repEpoch, repLeader, repIsr,
          repPartitionEpoch, pendingIsr, leaderStart, followerEnd, fetching,
          msgs, acked, produced>>

-----------------------------------------------------------------------------
(* Messages.                                                               *)

LeaderAndIsr(dst, c) ==
    [type |-> "LeaderAndIsr", dst |-> dst, leader |-> c.leader,
     leaderEpoch |-> c.leaderEpoch, isr |-> c.isr,
     partitionEpoch |-> c.partitionEpoch]
Fetch(src, dst, fetchOffset, lastFetchedEpoch, e) ==
    [type |-> "Fetch", src |-> src, dst |-> dst, fetchOffset |-> fetchOffset,
     lastFetchedEpoch |-> lastFetchedEpoch, epoch |-> e]
\* A response echoes the fetch it answers (epoch, fetchOffset and
\* lastFetchedEpoch): see HandleFetchResponse for why the last one too.
FetchResponse(src, dst, e, fetchOffset, lastFetchedEpoch, diverging, divEpoch,
              divEnd, records, h) ==
    [type |-> "FetchResponse", src |-> src, dst |-> dst, epoch |-> e,
     fetchOffset |-> fetchOffset, lastFetchedEpoch |-> lastFetchedEpoch,
     diverging |-> diverging, divEpoch |-> divEpoch, divEnd |-> divEnd,
     records |-> records, hw |-> h]
AlterPartition(src, e, isr, pe) ==
    [type |-> "AlterPartition", src |-> src, leaderEpoch |-> e, isr |-> isr,
     partitionEpoch |-> pe]

Send(S) == msgs' = msgs \cup S

\* "After every change it sends LeaderAndIsr(state) to every replica."
Announce(c) == Send({LeaderAndIsr(r, c) : r \in Replica})

-----------------------------------------------------------------------------
(* The partition is created with every replica in the ISR and one of them *)
(* leading epoch 1. Replicas start Offline (not yet told their role), with *)
(* repEpoch 0, so the first LeaderAndIsr is news to all of them.           *)
Init ==
    /\ \E l \in Replica :
          ctrl = [leader |-> l, leaderEpoch |-> 1, isr |-> Replica,
                  partitionEpoch |-> 1]
    /\ live = Replica
    /\ log = [r \in Replica |-> << >>]
    /\ durable = [r \in Replica |-> 0]
    /\ hw = [r \in Replica |-> 0]
    /\ role = [r \in Replica |-> "Offline"]
    /\ repEpoch = [r \in Replica |-> 0]
    /\ repLeader = [r \in Replica |-> None]
    /\ repIsr = [r \in Replica |-> {}]
    /\ repPartitionEpoch = [r \in Replica |-> 0]
    /\ pendingIsr = [r \in Replica |-> {}]
    /\ leaderStart = [r \in Replica |-> 0]
    /\ followerEnd = [r \in Replica |-> [f \in Replica |-> 0]]
    /\ fetching = [r \in Replica |-> FALSE]
    /\ msgs = {LeaderAndIsr(r, ctrl) : r \in Replica}
    /\ acked = {}
    /\ produced = {}

-----------------------------------------------------------------------------
(* Controller.                                                             *)

\* The partition states BrokerDown(r) may lead to (one, except for the
\* choice of the new leader).
StatesAfterDown(r) ==
    LET c    == ctrl
        up   == live \ {r}
        cand == (c.isr \ {r}) \cap up
    IN  IF c.leader = r
          THEN IF cand /= {}
                 \* a live member of the rest of the ISR (PROTOCOL.md: the
                 \* first in id order, one of these choices; safety must not
                 \* depend on which, and leaving it open makes the replicas
                 \* interchangeable for TLC's symmetry reduction)
                 THEN {[leader |-> n, leaderEpoch |-> c.leaderEpoch + 1,
                        isr |-> c.isr \ {r}, partitionEpoch |-> c.partitionEpoch + 1]
                       : n \in cand}
               ELSE IF Unclean /\ up /= {}
                 \* unclean.leader.election.enable: any live replica
                 THEN {[leader |-> u, leaderEpoch |-> c.leaderEpoch + 1,
                        isr |-> {u}, partitionEpoch |-> c.partitionEpoch + 1] : u \in up}
               \* offline: the ISR keeps its last member(s), so that only a
               \* replica holding every committed record may lead again
               ELSE {[c EXCEPT !.leader = None, !.leaderEpoch = @ + 1,
                               !.partitionEpoch = @ + 1]}
        ELSE IF r \in c.isr /\ c.isr /= {r}
          THEN {[c EXCEPT !.isr = @ \ {r}, !.partitionEpoch = @ + 1]}
        \* not in the ISR, or its sole member: the ISR never goes empty
        ELSE {c}

CtrlBrokerDown(r) ==
    /\ r \in live
    /\ live' = live \ {r}
    /\ \E c \in StatesAfterDown(r) :
          /\ ctrl' = c
          /\ IF c /= ctrl THEN Announce(c) ELSE UNCHANGED msgs
    /\ UNCHANGED <<replicaVars, acked, produced>>

\* An offline partition whose last ISR member returns gets it as leader.
CtrlBrokerUp(r) ==
    /\ r \notin live
    /\ live' = live \cup {r}
    /\ LET c == IF ctrl.leader = None /\ r \in ctrl.isr
                  THEN [ctrl EXCEPT !.leader = r, !.leaderEpoch = @ + 1,
                                    !.partitionEpoch = @ + 1]
                  ELSE ctrl
       IN  /\ ctrl' = c
           /\ IF c /= ctrl THEN Announce(c) ELSE Send({LeaderAndIsr(r, c)})
    /\ UNCHANGED <<replicaVars, acked, produced>>

\* The compare-and-set: applied only if the request was made in the
\* current leader epoch and against the current partition epoch. The
\* controller does not check liveness (PROTOCOL.md, Shrink/Expand ISR), so
\* a request refused here was made against a stale state, and its sender
\* learns the newer one from the LeaderAndIsr already sent for it (the
\* refusal's answer is CtrlResend).
CtrlAlterPartition(m) ==
    /\ m.type = "AlterPartition"
    /\ m.leaderEpoch = ctrl.leaderEpoch
    /\ m.partitionEpoch = ctrl.partitionEpoch
    /\ ctrl.leader \in m.isr
    /\ LET c == [ctrl EXCEPT !.isr = m.isr, !.partitionEpoch = @ + 1]
       IN  /\ ctrl' = c
           /\ Announce(c)
    /\ UNCHANGED <<live, replicaVars, acked, produced>>

\* The controller sends its current state to r again (the answer to a
\* refused AlterPartition, a timer). Every state is announced to every
\* replica when it is made, and msgs keeps every message, so in this model
\* this is always a stuttering step; it is here for trace validation.
CtrlResend(r) ==
    /\ Send({LeaderAndIsr(r, ctrl)})
    /\ UNCHANGED <<ctrlVars, replicaVars, acked, produced>>

-----------------------------------------------------------------------------
(* Replica: LeaderAndIsr.                                                  *)

\* A newer leader epoch: r becomes leader or follower. Either way a pending
\* ISR change is dropped (a newer leader epoch has decided), and a fetch
\* in flight is abandoned (its answer would carry the old epoch).
BecomeLeader(r, m) ==
    /\ m.leader = r
    /\ role' = [role EXCEPT ![r] = "Leader"]
    /\ leaderStart' = [leaderStart EXCEPT ![r] = Len(log[r])]
    /\ followerEnd' = [followerEnd EXCEPT ![r] = [f \in Replica |-> 0]]
    /\ UNCHANGED <<log, durable>>

\* A replica coming back from a crash (Offline) keeps its log
\* (RestartLog): its first fetch, with its last epoch, does the truncation.
BecomeFollower(r, m) ==
    /\ m.leader /= r
    /\ role' = [role EXCEPT ![r] = "Follower"]
    /\ IF role[r] = "Offline"
          THEN LET lg == RestartLog(log[r], hw[r])
               IN  /\ log' = [log EXCEPT ![r] = lg]
                   /\ durable' = [durable EXCEPT ![r] = Min(@, Len(lg))]
          ELSE UNCHANGED <<log, durable>>
    /\ UNCHANGED <<leaderStart, followerEnd>>

\* Whether r takes m as a new role. A newer leader epoch, always. The
\* epoch r last accepted survives a crash, and a restarted replica (Offline)
\* takes the LeaderAndIsr of that same epoch too, as a follower, so that it
\* can rejoin without waiting for a leader change (BrokerUp sends it the
\* current state). It never takes back the leadership of an epoch it led
\* before crashing: it may have lost records of that epoch that followers
\* hold, and would then write other records at the same offsets in the
\* same epoch, which no divergence check can see.
NewRole(r, m) ==
    \/ m.leaderEpoch > repEpoch[r]
    \/ /\ role[r] = "Offline"
       /\ m.leaderEpoch = repEpoch[r]
       /\ m.leader /= r

ReceiveLeaderAndIsr(r, m) ==
    /\ m.type = "LeaderAndIsr"
    /\ m.dst = r
    /\ \/ /\ NewRole(r, m)
          /\ repEpoch' = [repEpoch EXCEPT ![r] = m.leaderEpoch]
          /\ repLeader' = [repLeader EXCEPT ![r] = m.leader]
          /\ fetching' = [fetching EXCEPT ![r] = FALSE]
          /\ BecomeLeader(r, m) \/ BecomeFollower(r, m)
       \* Same leader epoch, newer partition state: the controller decided
       \* on the ISR (an AlterPartition applied, or a follower's session
       \* expired). Only its ISR fields change.
       \/ /\ ~ NewRole(r, m)
          /\ m.leaderEpoch = repEpoch[r]
          /\ m.partitionEpoch > repPartitionEpoch[r]
          /\ UNCHANGED <<log, durable, role, repEpoch, repLeader, leaderStart,
                         followerEnd, fetching>>
    /\ repIsr' = [repIsr EXCEPT ![r] = m.isr]
    /\ repPartitionEpoch' = [repPartitionEpoch EXCEPT ![r] = m.partitionEpoch]
    /\ pendingIsr' = [pendingIsr EXCEPT ![r] = {}]
    /\ UNCHANGED <<hw, ctrlVars, msgs, acked, produced>>

-----------------------------------------------------------------------------
(* Replica: producing, persisting, acknowledging.                          *)

\* The leader appends [leaderEpoch, v] at its LEO. Whatever the acks mode
\* (acks=all with |isr| < MinIsr is refused before this step, but acks=0
\* and acks=1 are not), so the step has no ISR condition.
Produce(l, v) ==
    /\ role[l] = "Leader"
    /\ v \notin produced
    /\ log' = [log EXCEPT ![l] = Append(@, [epoch |-> repEpoch[l], value |-> v])]
    /\ produced' = produced \cup {v}
    /\ UNCHANGED <<ctrlVars, durable, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                   fetching, msgs, acked>>

\* The log's tail reaches the disk (fsync).
Persist(r) ==
    /\ durable[r] < Len(log[r])
    /\ durable' = [durable EXCEPT ![r] = Len(log[r])]
    /\ UNCHANGED <<ctrlVars, log, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                   fetching, msgs, acked, produced>>

\* acks=all succeeds for the record at offset i, appended by l in its own
\* epoch, once the HW is past it while the ISR has at least MinIsr members.
AckAll(l, i) ==
    /\ role[l] = "Leader"
    /\ i \in 0..(Len(log[l]) - 1)
    /\ log[l][i + 1].epoch = repEpoch[l]
    /\ i < hw[l]
    /\ EnoughIsr(repIsr[l])
    /\ LET a == [offset |-> i, value |-> log[l][i + 1].value]
       IN  /\ a \notin acked
           /\ acked' = acked \cup {a}
    /\ UNCHANGED <<ctrlVars, replicaVars, msgs, produced>>

-----------------------------------------------------------------------------
(* Replica: fetching.                                                      *)

\* A follower fetches from the replica it believes leads, one fetch at a
\* time, and only once what it appended is durable (persist before fetch):
\* fetchOffset never promises records a crash can take away.
SendFetch(f) ==
    /\ role[f] = "Follower"
    /\ repLeader[f] /= None
    /\ ~ fetching[f]
    /\ durable[f] = Len(log[f])
    /\ fetching' = [fetching EXCEPT ![f] = TRUE]
    /\ Send({Fetch(f, repLeader[f], Len(log[f]), LastEpoch(log[f]), repEpoch[f])})
    /\ UNCHANGED <<ctrlVars, log, durable, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                   acked, produced>>

\* The leader answers a fetch of its own epoch (another epoch is answered
\* with an error: not modelled). With a last fetched epoch, it first checks
\* for divergence; otherwise it records how far the follower got and sends
\* its records from fetchOffset up to its LEO (durable or not) and its HW.
HandleFetch(l, m) ==
    /\ m.type = "Fetch"
    /\ m.dst = l
    /\ role[l] = "Leader"
    /\ m.epoch = repEpoch[l]
    /\ LET eo  == EndOffsetFor(log[l], m.lastFetchedEpoch)
           div == /\ m.lastFetchedEpoch >= 0
                  /\ eo.epoch /= m.lastFetchedEpoch \/ eo.end < m.fetchOffset
       IN  IF div
             THEN /\ Send({FetchResponse(l, m.src, m.epoch, m.fetchOffset,
                                         m.lastFetchedEpoch, TRUE, eo.epoch,
                                         eo.end, << >>, hw[l])})
                  /\ UNCHANGED followerEnd
             ELSE /\ followerEnd' = [followerEnd EXCEPT ![l][m.src] = m.fetchOffset]
                  /\ Send({FetchResponse(l, m.src, m.epoch, m.fetchOffset,
                                         m.lastFetchedEpoch, FALSE, -1, -1,
                                         SubSeq(log[l], m.fetchOffset + 1, Len(log[l])),
                                         hw[l])})
    /\ UNCHANGED <<ctrlVars, log, durable, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, fetching,
                   acked, produced>>

\* The follower takes the answer to its outstanding fetch only: same leader
\* and epoch, and the fetchOffset and lastFetchedEpoch it would send now.
\* Matching the offset alone is not enough (TLC found this): a duplicated
\* or delayed Diverging answer to an earlier fetch from the same offset,
\* made when the follower's log still diverged, would truncate the log it
\* has since caught up, below the offset the leader now counts for it
\* (followerEnd), and the HW would cover records the follower lost.
\* Answers to fetches with the same epoch, offset and last epoch are
\* interchangeable: the leader's answer to a diverging one is always the
\* same (its epoch cache below its own epoch is fixed while it leads), and
\* a non-diverging one means the follower's log is a prefix of the
\* leader's, whichever fetch it answers.
\*   - Diverging: truncate (a Persist truncate: the disk follows at once)
\*     and fetch again. The HW is capped at the new LEO, as Kafka's
\*     truncateTo does (the divergence point is never below a committed
\*     offset, so this changes nothing unless the protocol is broken).
\*   - Records: append them at the LEO; hw := min(leaderHw, LEO).
HandleFetchResponse(f, m) ==
    /\ m.type = "FetchResponse"
    /\ m.dst = f
    /\ role[f] = "Follower"
    /\ fetching[f]
    /\ m.src = repLeader[f]
    /\ m.epoch = repEpoch[f]
    /\ AnswersFetch(m, log[f])
    /\ fetching' = [fetching EXCEPT ![f] = FALSE]
    /\ IF m.diverging
         THEN LET n == TruncationPoint(log[f], m.divEpoch, m.divEnd)
              IN  /\ log' = [log EXCEPT ![f] = Prefix(@, n)]
                  /\ durable' = [durable EXCEPT ![f] = Min(@, n)]
                  /\ hw' = [hw EXCEPT ![f] = Min(@, n)]
         ELSE LET lg == log[f] \o m.records
              IN  /\ log' = [log EXCEPT ![f] = lg]
                  /\ hw' = [hw EXCEPT ![f] = Min(m.hw, Len(lg))]
                  /\ UNCHANGED durable
    /\ UNCHANGED <<ctrlVars, role, repEpoch, repLeader, repIsr, repPartitionEpoch,
                   pendingIsr, leaderStart, followerEnd, msgs, acked, produced>>

-----------------------------------------------------------------------------
(* Leader: high watermark and ISR.                                         *)

\* How far replica x is known (to leader l) to hold l's log: the leader's
\* durable LEO for itself, the last fetch offset for a follower.
EndOf(l, x) == IF x = l THEN durable[l] ELSE followerEnd[l][x]

\* hw := max(hw, min over the maximal ISR of EndOf). It never goes back.
AdvanceHW(l) ==
    /\ role[l] = "Leader"
    /\ LET h == MinOf({EndOf(l, x) : x \in MaximalIsr(repIsr[l], pendingIsr[l])})
       IN  /\ h > hw[l]
           /\ hw' = [hw EXCEPT ![l] = h]
    /\ UNCHANGED <<ctrlVars, log, durable, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                   fetching, msgs, acked, produced>>

\* Propose newIsr to the controller and remember it until a newer state
\* arrives (KIP-497: a delayed copy of the request may still apply).
ProposeIsr(l, newIsr) ==
    /\ pendingIsr' = [pendingIsr EXCEPT ![l] = newIsr]
    /\ Send({AlterPartition(l, repEpoch[l], newIsr, repPartitionEpoch[l])})
    /\ UNCHANGED <<ctrlVars, log, durable, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, leaderStart, followerEnd, fetching,
                   acked, produced>>

\* Lag is time, which is not modelled: any follower may be shrunk at any time.
ShrinkIsr(l, f) ==
    /\ role[l] = "Leader"
    /\ pendingIsr[l] = {}
    /\ f \in repIsr[l] \ {l}
    /\ ProposeIsr(l, repIsr[l] \ {f})

\* A follower that has reached the HW and the start of the leader's epoch.
ExpandIsr(l, f) ==
    /\ role[l] = "Leader"
    /\ pendingIsr[l] = {}
    /\ f \in Replica \ repIsr[l]
    /\ followerEnd[l][f] >= hw[l]
    /\ followerEnd[l][f] >= leaderStart[l]
    /\ ProposeIsr(l, repIsr[l] \cup {f})

\* Resend on Tick (messages get lost). msgs keeps the first copy, so in
\* this model this is always a stuttering step; it is here for trace
\* validation.
ResendAlterPartition(l) ==
    /\ role[l] = "Leader"
    /\ pendingIsr[l] /= {}
    /\ Send({AlterPartition(l, repEpoch[l], pendingIsr[l], repPartitionEpoch[l])})
    /\ UNCHANGED <<ctrlVars, replicaVars, acked, produced>>

-----------------------------------------------------------------------------
(* Crash. The disk keeps at least the durable prefix, and possibly more  *)
(* (the OS may have flushed some of the tail on its own); the HW           *)
(* checkpoint comes back no higher than what survived, and possibly lower *)
(* (it is written now and then, not at every HW move). The replica is     *)
(* Offline until it accepts a LeaderAndIsr. (An Offline replica has       *)
(* nothing volatile left to lose: crashing it again is a stuttering step.)*)
Crash(r) ==
    /\ role[r] /= "Offline"
    /\ \E n \in durable[r]..Len(log[r]) :
          /\ log' = [log EXCEPT ![r] = Prefix(@, n)]
          /\ durable' = [durable EXCEPT ![r] = n]
          /\ \E h \in 0..Min(hw[r], n) : hw' = [hw EXCEPT ![r] = h]
    /\ role' = [role EXCEPT ![r] = "Offline"]
    /\ fetching' = [fetching EXCEPT ![r] = FALSE]
    /\ pendingIsr' = [pendingIsr EXCEPT ![r] = {}]
    /\ UNCHANGED <<ctrlVars, repEpoch, repLeader, repIsr, repPartitionEpoch,
                   leaderStart, followerEnd, msgs, acked, produced>>

\* A follower gives up its fetch: no answer came in time, or an error
\* answer did (a fetch to a replica that no longer leads that epoch, which
\* the spec does not model). It may then fetch again, from where it is.
FetchAbandoned(f) ==
    /\ fetching[f]
    /\ fetching' = [fetching EXCEPT ![f] = FALSE]
    /\ UNCHANGED <<ctrlVars, log, durable, hw, role, repEpoch, repLeader, repIsr,
                   repPartitionEpoch, pendingIsr, leaderStart, followerEnd,
                   msgs, acked, produced>>

-----------------------------------------------------------------------------
\* Receiving a message: only its addressee (or the controller) acts on it.
Receive(m) ==
    CASE m.type = "LeaderAndIsr"   -> ReceiveLeaderAndIsr(m.dst, m)
      [] m.type = "Fetch"          -> HandleFetch(m.dst, m)
      [] m.type = "FetchResponse"  -> HandleFetchResponse(m.dst, m)
      [] m.type = "AlterPartition" -> CtrlAlterPartition(m)

Next ==
    \/ \E r \in Replica : CtrlBrokerDown(r) \/ CtrlBrokerUp(r) \/ CtrlResend(r)
    \/ \E m \in msgs : Receive(m)
    \/ \E l \in Replica, v \in Value : Produce(l, v)
    \/ \E l \in Replica : \E i \in 0..(Len(log[l]) - 1) : AckAll(l, i)
    \/ \E r \in Replica :
          \/ Persist(r)
          \/ SendFetch(r)
          \/ AdvanceHW(r)
          \/ ResendAlterPartition(r)
          \/ FetchAbandoned(r)
          \/ Crash(r)
    \/ \E l, f \in Replica : ShrinkIsr(l, f) \/ ExpandIsr(l, f)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants (same names as PROTOCOL.md and the TypeScript checks).       *)

PartitionState == [leader : Replica \cup {None}, leaderEpoch : Nat,
                   isr : SUBSET Replica, partitionEpoch : Nat]

IsMessage(m) ==
    CASE m.type = "LeaderAndIsr" ->
            m \in [type : {"LeaderAndIsr"}, dst : Replica, leader : Replica \cup {None},
                   leaderEpoch : Nat, isr : SUBSET Replica, partitionEpoch : Nat]
      [] m.type = "Fetch" ->
            m \in [type : {"Fetch"}, src : Replica, dst : Replica, fetchOffset : Nat,
                   lastFetchedEpoch : Nat \cup {-1}, epoch : Nat]
      [] m.type = "FetchResponse" ->
            m \in [type : {"FetchResponse"}, src : Replica, dst : Replica, epoch : Nat,
                   fetchOffset : Nat, lastFetchedEpoch : Nat \cup {-1},
                   diverging : BOOLEAN, divEpoch : Nat \cup {-1},
                   divEnd : Nat \cup {-1}, records : Seq(Record), hw : Nat]
      [] m.type = "AlterPartition" ->
            m \in [type : {"AlterPartition"}, src : Replica, leaderEpoch : Nat,
                   isr : SUBSET Replica \ {{}}, partitionEpoch : Nat]
      [] OTHER -> FALSE

TypeOK ==
    /\ ctrl \in PartitionState
    /\ ctrl.isr /= {}
    /\ live \subseteq Replica
    /\ log \in [Replica -> Seq(Record)]
    /\ durable \in [Replica -> Nat]
    /\ hw \in [Replica -> Nat]
    /\ role \in [Replica -> Roles]
    /\ repEpoch \in [Replica -> Nat]
    /\ repLeader \in [Replica -> Replica \cup {None}]
    /\ repIsr \in [Replica -> SUBSET Replica]
    /\ repPartitionEpoch \in [Replica -> Nat]
    /\ pendingIsr \in [Replica -> SUBSET Replica]
    /\ leaderStart \in [Replica -> Nat]
    /\ followerEnd \in [Replica -> [Replica -> Nat]]
    /\ fetching \in [Replica -> BOOLEAN]
    /\ \A m \in msgs : IsMessage(m)
    /\ acked \subseteq [offset : Nat, value : Value]
    /\ produced \subseteq Value
    \* the shapes the other invariants rely on
    /\ \A r \in Replica : durable[r] <= Len(log[r]) /\ hw[r] <= Len(log[r])
    /\ \A r \in Replica : role[r] = "Leader" => r \in repIsr[r] /\ repLeader[r] = r

\* Replica r holds value v at offset i.
Holds(r, i, v) == i < Len(log[r]) /\ log[r][i + 1].value = v
HoldsDurably(r, i, v) == i < durable[r] /\ log[r][i + 1].value = v

\* Every acks=all write is, at its offset, in the current leader's log.
AckedWritesSurvive ==
    ctrl.leader /= None =>
        \A a \in acked : Holds(ctrl.leader, a.offset, a.value)

\* Every acks=all write is durable, at its offset, on MinIsr replicas.
AckedOnMinIsr ==
    \A a \in acked :
        Cardinality({r \in Replica : HoldsDurably(r, a.offset, a.value)}) >= MinIsr

\* Any two replicas hold the same records below the smaller of their HWs.
LogsAgreeBelowHW ==
    \A r1, r2 \in Replica :
        \A i \in 0..(Min(Min(hw[r1], hw[r2]), Min(Len(log[r1]), Len(log[r2]))) - 1) :
            log[r1][i + 1] = log[r2][i + 1]

\* The current leader (the controller's) holds every record below any
\* replica's HW.
LeaderHasCommitted ==
    ctrl.leader /= None =>
        \A r \in Replica :
            /\ Len(log[ctrl.leader]) >= hw[r]
            /\ \A i \in 0..(Min(hw[r], Len(log[r])) - 1) :
                  log[ctrl.leader][i + 1] = log[r][i + 1]

\* A leader's HW is at most the durable LEO of every member of its maximal
\* ISR: what it calls committed is on the disk of every replica that could
\* be elected next. (Stated with the ISR sets themselves, not MaximalIsr,
\* so that a mutant of the HW rule does not weaken it.)
HwWithinIsrEnds ==
    \A l \in Replica :
        role[l] = "Leader" =>
            \A x \in repIsr[l] \cup pendingIsr[l] : hw[l] <= durable[x]

OneLeaderPerEpoch ==
    \A r1, r2 \in Replica :
        (r1 /= r2 /\ role[r1] = "Leader" /\ role[r2] = "Leader")
            => repEpoch[r1] /= repEpoch[r2]

\* Not in PROTOCOL.md's table: a progress condition stated as a safety
\* one. Every Diverging answer the follower may take now shortens its log,
\* so that repeated fetches converge on the leader's log (KIP-279). Since
\* every fetch carries its last epoch, a follower truncating too little
\* loses no data: its next fetch diverges again, for ever (a livelock,
\* which none of the invariants above can see).
DivergenceMakesProgress ==
    \A m \in msgs :
        LET f == m.dst
        IN  (/\ m.type = "FetchResponse" /\ m.diverging
             /\ role[f] = "Follower" /\ fetching[f]
             /\ m.src = repLeader[f] /\ m.epoch = repEpoch[f]
             /\ AnswersFetch(m, log[f]))
            => TruncationPoint(log[f], m.divEpoch, m.divEnd) < Len(log[f])

-----------------------------------------------------------------------------
(* Model checking only (Replication.cfg and the spec mutants; never trace *)
(* validation).                                                            *)

\* Replica and Value are sets of interchangeable model values (nothing in
\* the specification orders replicas: see StatesAfterDown). TLC composes no
\* permutations itself, so the group is spelled out.
Symm == {p @@ q : p \in Permutations(Replica), q \in Permutations(Value)}

\* Initial state: epoch 1 established, every replica has taken the first
\* LeaderAndIsr (Init has them all Offline, yet to take it). A replica
\* that takes it late behaves like one that is slow afterwards, which the
\* model has anyway; starting here saves the interleavings of the three
\* first deliveries with everything else.
ModelInit ==
    \E l \in Replica :
       /\ ctrl = [leader |-> l, leaderEpoch |-> 1, isr |-> Replica,
                  partitionEpoch |-> 1]
       /\ live = Replica
       /\ log = [r \in Replica |-> << >>]
       /\ durable = [r \in Replica |-> 0]
       /\ hw = [r \in Replica |-> 0]
       /\ role = [r \in Replica |-> IF r = l THEN "Leader" ELSE "Follower"]
       /\ repEpoch = [r \in Replica |-> 1]
       /\ repLeader = [r \in Replica |-> l]
       /\ repIsr = [r \in Replica |-> Replica]
       /\ repPartitionEpoch = [r \in Replica |-> 1]
       /\ pendingIsr = [r \in Replica |-> {}]
       /\ leaderStart = [r \in Replica |-> 0]
       /\ followerEnd = [r \in Replica |-> [f \in Replica |-> 0]]
       /\ fetching = [r \in Replica |-> FALSE]
       /\ msgs = {LeaderAndIsr(r, ctrl) : r \in Replica}
       /\ acked = {}
       /\ produced = {}

ModelSpec == ModelInit /\ [][Next]_vars

\* Bounds: leader epochs up to MaxEpoch; partition epochs up to MaxEpoch +
\* ExtraIsrChanges (each leader change bumps both, so this bounds the ISR
\* changes, which could otherwise go on for ever); at most MaxFetchTraffic
\* live Fetch and FetchResponse messages at once (the network's capacity:
\* without it, every follower's stale fetches and their answers, each
\* answered with whatever the leader had then, multiply the states far
\* beyond what TLC can explore). LiveMsg is defined below.
ExtraIsrChanges == 1
MaxFetchTraffic == 3

\* Action constraint: a crash that loses nothing of the log is left out.
\* When the log was all durable, its only effects are role "Offline", no
\* fetch in flight and no pending ISR change, and it reaches nothing the
\* replica could not reach by doing nothing: an idle replica keeps its log
\* (the HW is already at most the durable end), takes the next
\* LeaderAndIsr the same way (RestartLog keeps the log), and a restarted
\* follower's first fetch is the one it had in flight. When the OS had
\* flushed the undurable tail anyway, the crash is a Persist followed by
\* such a crash. Leaving them in costs a factor of several in states. (The
\* argument fails for the TruncateToHw mutant, whose restart does change
\* the log; TLC catches that mutant with the constraint on all the same.)
LossyCrashOnly ==
    \A r \in Replica :
        (role[r] /= "Offline" /\ role'[r] = "Offline") => Len(log'[r]) < Len(log[r])

\* Action constraint: a crash brings back the newest HW checkpoint it may
\* (min(hw, what survived)); an older one is left out. Lowering a
\* replica's HW changes no enabled step: the HW gates acknowledgements and
\* ISR expansion only above leaderStart, where a new leader's HW is not
\* yet (it never exceeds the log it had when it took over), and AdvanceHW
\* sets the same value from any lower start; followers overwrite theirs
\* from the next answer. So a lower HW only weakens the HW invariants.
\* (Nor this one for TruncateToHw, which reads the HW at restart.)
NewestCheckpoint ==
    \A r \in Replica :
        (role[r] /= "Offline" /\ role'[r] = "Offline") => hw'[r] = Min(hw[r], Len(log'[r]))

\* Action constraint: steps that only make progress are taken as soon as
\* they are enabled, before anything else happens.
\*  - SendFetch: a fetch sent at once and delivered late is a fetch sent
\*    late; sending it is enabled until the follower's state changes, and
\*    a fetch sent from the old state is then one more message in msgs,
\*    which only adds behaviours.
\*  - AckAll: acked is a ghost no action reads, and the invariants only get
\*    stronger as it grows, so acknowledging as early as allowed finds
\*    every violation a later acknowledgement would.
\*  - AdvanceHW: the leader advances its HW as soon as it can, as the
\*    implementation does at the end of the step that made it possible
\*    (PROTOCOL.md: "answers ..., then advances the HW").
CanSendFetch(f) ==
    /\ role[f] = "Follower" /\ repLeader[f] /= None
    /\ ~ fetching[f] /\ durable[f] = Len(log[f])
CanAdvanceHW(l) ==
    /\ role[l] = "Leader"
    /\ MinOf({EndOf(l, x) : x \in MaximalIsr(repIsr[l], pendingIsr[l])}) > hw[l]
CanAck(l) ==
    \E i \in 0..(Len(log[l]) - 1) :
        /\ role[l] = "Leader"
        /\ log[l][i + 1].epoch = repEpoch[l]
        /\ i < hw[l]
        /\ EnoughIsr(repIsr[l])
        /\ [offset |-> i, value |-> log[l][i + 1].value] \notin acked
Eager ==
    (\E r \in Replica : CanSendFetch(r) \/ CanAdvanceHW(r) \/ CanAck(r))
        => \E r \in Replica :
              \/ CanSendFetch(r) /\ SendFetch(r)
              \/ AdvanceHW(r)
              \/ \E i \in 0..(Len(log[r]) - 1) : AckAll(r, i)

ModelAction == LossyCrashOnly /\ NewestCheckpoint /\ Eager

\* Dead messages: a message is live if receiving it may still change a
\* variable of the view. The conditions are conservative, and rest on
\* these facts of the protocol:
\*  - repEpoch only grows, and so do the controller's epochs; within one
\*    leader epoch a replica's repPartitionEpoch only grows; a replica
\*    leads an epoch at most once (it needs a newer epoch after a crash);
\*  - the leader's answer to a fetch that diverges depends only on the
\*    fetch's (fetchOffset, lastFetchedEpoch) (see HandleFetchResponse);
\*  - in one leader epoch a follower goes through two phases: while its
\*    fetches diverge, each truncation leaves a prefix of its log (a crash
\*    too); once one passes, its log is a prefix of the leader's, it only
\*    grows, and a crash takes it back to durable, which no longer
\*    shrinks. So a diverging answer can match only a fetch made from a
\*    prefix of the current log, and a non-diverging one only a fetch from
\*    an offset at least durable.
\* An Offline replica that was a follower in its epoch may rejoin it, so
\* its answers stay live.
\* (Offset o of a response matches the follower's log if its prefix of
\* length o ends with the response's lastFetchedEpoch.)
ResponseMayMatch(m) ==
    LET f == m.dst
        o == m.fetchOffset
    IN  /\ o <= Len(log[f]) => LastEpoch(Prefix(log[f], o)) = m.lastFetchedEpoch
        /\ IF m.diverging THEN o <= Len(log[f]) ELSE o >= durable[f]

LiveMsg(m) ==
    CASE m.type = "LeaderAndIsr" ->
            \/ m.leaderEpoch > repEpoch[m.dst]
            \/ /\ role[m.dst] = "Offline"
               /\ m.leaderEpoch = repEpoch[m.dst]
               /\ m.leader /= m.dst
            \* the ISR fields are read only while leading (see View)
            \/ /\ role[m.dst] = "Leader"
               /\ m.leaderEpoch = repEpoch[m.dst]
               /\ m.partitionEpoch > repPartitionEpoch[m.dst]
      [] m.type = "Fetch" ->
            \/ repEpoch[m.dst] < m.epoch
            \/ /\ repEpoch[m.dst] = m.epoch
               /\ role[m.dst] = "Leader"
               \* a diverging fetch already answered only resends that answer
               /\ LET eo == EndOffsetFor(log[m.dst], m.lastFetchedEpoch)
                  IN  ~ /\ m.lastFetchedEpoch >= 0
                        /\ eo.epoch /= m.lastFetchedEpoch \/ eo.end < m.fetchOffset
                        /\ \E r \in msgs :
                              /\ r.type = "FetchResponse" /\ r.src = m.dst
                              /\ r.dst = m.src /\ r.epoch = m.epoch
                              /\ r.fetchOffset = m.fetchOffset
                              /\ r.lastFetchedEpoch = m.lastFetchedEpoch
      [] m.type = "FetchResponse" ->
            /\ repEpoch[m.dst] = m.epoch
            /\ role[m.dst] /= "Leader"
            /\ ResponseMayMatch(m)
      [] m.type = "AlterPartition" ->
            /\ m.leaderEpoch = ctrl.leaderEpoch
            /\ m.partitionEpoch = ctrl.partitionEpoch

FetchTraffic == {m \in msgs : m.type \in {"Fetch", "FetchResponse"} /\ LiveMsg(m)}

StateConstraint ==
    /\ ctrl.leaderEpoch <= MaxEpoch
    /\ ctrl.partitionEpoch <= MaxEpoch + ExtraIsrChanges
    /\ Cardinality(FetchTraffic) <= MaxFetchTraffic

\* A diverging answer's hw is never read.
Canonical(m) ==
    IF m.type = "FetchResponse" /\ m.diverging THEN [m EXCEPT !.hw = 0] ELSE m

\* VIEW: dead messages are left out, and so is the leader-only state of a
\* replica that is not leading (repIsr, repPartitionEpoch, pendingIsr,
\* leaderStart, followerEnd: becoming leader overwrites all of them, and
\* only a leader's actions and invariants read them), and repLeader of an
\* Offline replica. States that differ only there have the same futures.
View ==
    LET leading(r) == role[r] = "Leader"
    IN  <<ctrl, live, log, durable, hw, role, repEpoch,
          [r \in Replica |-> IF role[r] = "Offline" THEN None ELSE repLeader[r]],
          [r \in Replica |-> IF leading(r) THEN repIsr[r] ELSE {}],
          [r \in Replica |-> IF leading(r) THEN repPartitionEpoch[r] ELSE 0],
          [r \in Replica |-> IF leading(r) THEN pendingIsr[r] ELSE {}],
          [r \in Replica |-> IF leading(r) THEN leaderStart[r] ELSE 0],
          [r \in Replica |-> IF leading(r) THEN followerEnd[r] ELSE [f \in Replica |-> 0]],
          fetching,
          {Canonical(m) : m \in {x \in msgs : LiveMsg(x)}},
          acked, produced>>

=============================================================================
