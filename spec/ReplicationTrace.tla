-------------------------- MODULE ReplicationTrace --------------------------
(***************************************************************************)
(* Trace validation: is a recorded run of core/replication (the simulator, *)
(* test/sim/replication) a behaviour of Replication?                       *)
(*                                                                         *)
(* The harness writes ReplicationTraceData.tla beside this module: the     *)
(* constants (TraceReplica, TraceValue, TraceNone, TraceMinIsr) and Trace, *)
(* a sequence of records. Trace[1] is the initial state; each later record *)
(* is the state after one step of the implementation, with `actor` (a      *)
(* replica id, or 0 for the controller), `kind` (what it stepped on),      *)
(* `msg` or `arg` (the message received, the broker named, the value       *)
(* produced) and `sent` (the messages it sent, as the spec writes them).   *)
(*                                                                         *)
(* One implementation step can be several spec steps: a fetch the leader  *)
(* answers also moves its HW, acknowledges writes and may propose an ISR   *)
(* change. So a record is matched by up to MaxSub spec steps, each one an  *)
(* action of the record's actor allowed for its kind (Allowed below), the  *)
(* last of them reaching the recorded variables. k counts those steps.     *)
(*                                                                         *)
(* Variables the implementation keeps only while they mean something are   *)
(* compared only then: a leader's ISR view, pending ISR, epoch start and   *)
(* follower ends while it leads; the leader a replica follows while it is  *)
(* not Offline. msgs is never compared: the messages sent in a step must   *)
(* be in the spec's msgs after it.                                         *)
(*                                                                         *)
(* Accepted when TLC violates TraceMatched (l reached the last record).   *)
(***************************************************************************)
EXTENDS Replication, ReplicationTraceData, FiniteSets

VARIABLES l, k

MaxSub == 5

Leading(r, rec) == rec.role[r] = "Leader"

IsRecordNow(rec) ==
    /\ ctrl = rec.ctrl
    /\ live = rec.live
    /\ log = rec.log
    /\ durable = rec.durable
    /\ hw = rec.hw
    /\ role = rec.role
    /\ repEpoch = rec.repEpoch
    /\ acked = rec.acked
    /\ \A r \in Replica :
          /\ rec.role[r] /= "Offline" => repLeader[r] = rec.repLeader[r]
          /\ fetching[r] = rec.fetching[r]
          /\ Leading(r, rec) =>
                /\ repIsr[r] = rec.repIsr[r]
                /\ repPartitionEpoch[r] = rec.repPartitionEpoch[r]
                /\ pendingIsr[r] = rec.pendingIsr[r]
                /\ leaderStart[r] = rec.leaderStart[r]
                /\ followerEnd[r] = rec.followerEnd[r]

IsRecordNext(rec) ==
    /\ ctrl' = rec.ctrl
    /\ live' = rec.live
    /\ log' = rec.log
    /\ durable' = rec.durable
    /\ hw' = rec.hw
    /\ role' = rec.role
    /\ repEpoch' = rec.repEpoch
    /\ acked' = rec.acked
    /\ \A r \in Replica :
          /\ rec.role[r] /= "Offline" => repLeader'[r] = rec.repLeader[r]
          /\ fetching'[r] = rec.fetching[r]
          /\ Leading(r, rec) =>
                /\ repIsr'[r] = rec.repIsr[r]
                /\ repPartitionEpoch'[r] = rec.repPartitionEpoch[r]
                /\ pendingIsr'[r] = rec.pendingIsr[r]
                /\ leaderStart'[r] = rec.leaderStart[r]
                /\ followerEnd'[r] = rec.followerEnd[r]
    /\ rec.sent \subseteq msgs'

\* The acknowledgement the implementation makes next in this step: it
\* answers waiting writes in offset order, so only the lowest offset the
\* record acknowledges and the spec has not yet is tried (all orders would
\* be the same states, reached factorially many ways).
AckNext(a, rec) ==
    LET todo == {x.offset : x \in rec.acked \ acked}
    IN  todo /= {} /\ AckAll(a, MinOf(todo))

\* What an actor does around the input it stepped on, in the same step.
Followups(a, rec) ==
    \/ AdvanceHW(a)
    \/ AckNext(a, rec)
    \/ SendFetch(a)
    \/ \E f \in Replica : ExpandIsr(a, f)

\* The spec actions a record's actor may take for its kind.
Allowed(rec) ==
    LET a == rec.actor IN
    CASE rec.kind = "ReceiveLeaderAndIsr" -> \/ ReceiveLeaderAndIsr(a, rec.msg)
                                             \/ Followups(a, rec)
      [] rec.kind = "ReceiveFetch"        -> \/ HandleFetch(a, rec.msg) \/ Followups(a, rec)
      [] rec.kind = "ReceiveFetchResponse" -> \/ HandleFetchResponse(a, rec.msg)
                                              \/ FetchAbandoned(a)
                                              \/ SendFetch(a)
      [] rec.kind = "Produce"             -> \/ Produce(a, rec.arg) \/ Followups(a, rec)
      [] rec.kind = "Persisted"           -> \/ Persist(a) \/ Followups(a, rec)
      [] rec.kind = "Tick"                -> \/ \E f \in Replica : ShrinkIsr(a, f)
                                             \/ ResendAlterPartition(a)
                                             \/ FetchAbandoned(a)
                                             \/ Followups(a, rec)
      [] rec.kind = "Crash"               -> Crash(a)
      [] rec.kind = "ControllerBrokerDown" -> CtrlBrokerDown(rec.arg)
      [] rec.kind = "ControllerBrokerUp"   -> CtrlBrokerUp(rec.arg)
      [] rec.kind = "ControllerAlterPartition" -> CtrlAlterPartition(rec.msg)
      [] OTHER -> FALSE

TraceInit ==
    /\ l = 1
    /\ k = 0
    /\ Init
    /\ IsRecordNow(Trace[1])

TraceNext ==
    \/ /\ l < Len(Trace)
       \* MaxSub steps, plus one per write the record acknowledges.
       /\ k < MaxSub + Cardinality(Trace[l + 1].acked)
       /\ Allowed(Trace[l + 1])
       /\ \/ /\ IsRecordNext(Trace[l + 1])
             /\ l' = l + 1
             /\ k' = 0
          \/ /\ l' = l
             /\ k' = k + 1
    \* An implementation step that changes nothing the spec sees.
    \/ /\ l < Len(Trace)
       /\ k = 0
       /\ IsRecordNow(Trace[l + 1])
       /\ Trace[l + 1].sent \subseteq msgs
       /\ l' = l + 1
       /\ UNCHANGED <<vars, k>>
    \/ /\ l = Len(Trace)
       /\ UNCHANGED <<vars, l, k>>

TraceMatched == l < Len(Trace)

\* States that agree on l, k and every variable are one (msgs included: a
\* branch that sent other messages may match later receives differently).
TraceView == <<l, k, vars>>

=============================================================================
