------------------------------ MODULE ZabTrace ------------------------------
(***************************************************************************)
(* Trace validation: is a recorded run of the TypeScript implementation a  *)
(* behaviour of Zab?                                                       *)
(*                                                                         *)
(* The harness writes ZabTraceData.tla next to this module. It defines the *)
(* constants (TraceServer, TraceObserver, TraceValue, TraceMaxEpoch,       *)
(* TraceMaxBatch) and Trace, a sequence of records: Trace[1] is the        *)
(* initial state, each later record the state after one implementation     *)
(* step. A record holds every variable of Zab except the ghosts (msgs,     *)
(* proposed, initHist), plus `sent`, the abstract messages the             *)
(* implementation sent in that step, and `action`, a label for humans.     *)
(*                                                                         *)
(* The line counter l says which record the current state matches. Each   *)
(* step of TraceNext is a step of Zab (or a stuttering step, for an        *)
(* implementation step that changes no variable of Zab) whose recorded     *)
(* variables equal the next record's, and whose network holds every        *)
(* message the implementation sent. The implementation may send fewer     *)
(* messages than the specification (e.g. no INFORM when no observer is     *)
(* connected), never one the specification does not send.                 *)
(*                                                                         *)
(* TLC checks the invariant TraceMatched == l < Len(Trace): a violation    *)
(* (exit code 12) means the whole trace was matched, i.e. ACCEPTED. A      *)
(* trace the specification cannot follow ends with no successor state; run *)
(* with deadlock checking off (ZabTrace.cfg.template says                  *)
(* CHECK_DEADLOCK FALSE), TLC then exits 0: REJECTED. TLC prints the      *)
(* longest matched prefix as the value of l in its last states; the first  *)
(* unmatched record is Trace[l + 1].                                       *)
(***************************************************************************)
EXTENDS Zab, ZabTraceData

VARIABLE l

recordedVars == <<role, phase, leader, currentEpoch, acceptedEpoch, history,
                  lastCommitted, ackeRecv, ackIndex>>

IsRecord(r) ==
    /\ role = r.role
    /\ phase = r.phase
    /\ leader = r.leader
    /\ currentEpoch = r.currentEpoch
    /\ acceptedEpoch = r.acceptedEpoch
    /\ history = r.history
    /\ lastCommitted = r.lastCommitted
    /\ ackeRecv = r.ackeRecv
    /\ ackIndex = r.ackIndex

\* Primed equalities come first, so that TLC binds the recorded variables
\* from the trace and then only checks them in Next (fast, whatever the
\* number of messages).
BecomesRecord(r) ==
    /\ role' = r.role
    /\ phase' = r.phase
    /\ leader' = r.leader
    /\ currentEpoch' = r.currentEpoch
    /\ acceptedEpoch' = r.acceptedEpoch
    /\ history' = r.history
    /\ lastCommitted' = r.lastCommitted
    /\ ackeRecv' = r.ackeRecv
    /\ ackIndex' = r.ackIndex

\* The only batch LeaderPropose(n, _) can have appended in the next step:
\* the values the next record adds to n's history (at most MaxBatch).
TraceBatch(n) ==
    LET new == Trace[l + 1].history[n]
        k   == Len(new) - Len(history[n])
    IN  IF k \in 1..MaxBatch
           THEN {[i \in 1..k |-> new[Len(history[n]) + i].value]}
           ELSE {}

TraceInit ==
    /\ l = 1
    /\ Init
    /\ IsRecord(Trace[1])

TraceNext ==
    \/ /\ l < Len(Trace)
       /\ l' = l + 1
       /\ BecomesRecord(Trace[l + 1])
       /\ NextWith(TraceBatch) \/ UNCHANGED vars
       /\ Trace[l + 1].sent \subseteq msgs'
    \/ /\ l = Len(Trace)
       /\ UNCHANGED <<vars, l>>

TraceSpec == TraceInit /\ [][TraceNext]_<<vars, l>>

TraceMatched == l < Len(Trace)

(***************************************************************************)
(* VIEW: states that agree on l and on the recorded variables are          *)
(* identified, whatever their ghosts. Different Zab steps can explain the  *)
(* same implementation step while sending different messages (e.g. a       *)
(* stuttering step or a LeaderResendNewLeader for a timer tick), and       *)
(* keeping all those branches could grow exponentially along the trace.    *)
(* Merging them is sound and complete for matching: no action reads        *)
(* proposed or initHist, every branch's msgs holds every message the       *)
(* implementation sent so far, and those are the only messages the         *)
(* implementation can receive later.                                       *)
(***************************************************************************)
TraceView == <<l, recordedVars>>

=============================================================================
