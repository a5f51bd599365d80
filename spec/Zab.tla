-------------------------------- MODULE Zab --------------------------------
(***************************************************************************)
(* Sequent's Zab: the atomic-broadcast core of a ZooKeeper-style ensemble. *)
(* The contract this module follows is core/consensus/PROTOCOL.md; every   *)
(* action below is one action of that document, with the same name, and   *)
(* trace validation (ZabTrace.tla) checks that every step of the           *)
(* TypeScript implementation is a step of this specification.             *)
(*                                                                         *)
(* What is modelled:                                                       *)
(*   - voters (Server = 1..N) going through discovery, synchronization and *)
(*     broadcast, and observers (Observer) learning committed entries;     *)
(*   - owned epochs: epoch e belongs to voter Owner(e), and a leader only  *)
(*     ever picks an epoch it owns that is above every epoch it promised,  *)
(*     so no two leaders ever share an epoch, whatever the election did;   *)
(*   - crashes: Restart resets the volatile state, persisted state         *)
(*     (currentEpoch, acceptedEpoch, history, lastCommitted) survives. A   *)
(*     step's persistence is atomic (PROTOCOL.md, "persist before          *)
(*     acknowledge"), so a crash is a Restart between two steps.           *)
(*                                                                         *)
(* What is abstracted:                                                     *)
(*   - Leader election is an arbitrary choice (Elect): a looking voter may *)
(*     decide for any voter, including itself. Safety must not depend on   *)
(*     the election, so the spec does not model fast leader election.     *)
(*   - The network is the set msgs of every message ever sent. A receive   *)
(*     action reads any message of msgs and never removes it, so loss      *)
(*     (never read), duplication (read again) and reordering (read in any  *)
(*     order) are all free.                                                *)
(*   - Messages that only change looking state or trigger resends          *)
(*     (election notifications, FOLLOWERINFO, OBSERVERINFO) are not        *)
(*     modelled; a PING is a resent COMMIT; timeouts are Restart.          *)
(*     Histories are sent whole: the implementation's DIFF/TRUNC/SNAP and  *)
(*     batched proposals are encodings of "the leader's history when it    *)
(*     sent the message".                                                  *)
(*   - Time and liveness: this is a safety specification only.             *)
(*                                                                         *)
(* Steps that would change nothing (receiving a duplicate that adds        *)
(* nothing, restarting a node that is already reset, resending a message   *)
(* already sent) are left out of the actions: they are stuttering steps.   *)
(* With two voters or more the specification never deadlocks: a looking   *)
(* voter can always decide for another voter (Elect), any other voter can  *)
(* Restart.                                                                *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets, TLC

CONSTANTS
    Server,     \* the voters: 1..N
    Observer,   \* observers: naturals disjoint from Server (may be empty)
    Value,      \* what clients write
    MaxEpoch,   \* bound on epochs (a leader picks epochs in 1..MaxEpoch)
    MaxBatch    \* bound on the number of transactions in one PROPOSAL

ASSUME ServerAssumption ==
    /\ Server = 1..Cardinality(Server)
    /\ Cardinality(Server) >= 1
ASSUME ObserverAssumption ==
    /\ Observer \subseteq Nat
    /\ Observer \cap Server = {}
ASSUME BoundsAssumption ==
    /\ MaxEpoch \in Nat
    /\ MaxBatch \in Nat \ {0}

Node == Server \cup Observer

\* Epoch e >= 1 belongs to voter ((e - 1) mod N) + 1 (voters are 1..N, sorted).
Owner(e) == ((e - 1) % Cardinality(Server)) + 1

\* A strict majority of the voters; observers never count.
IsQuorum(S) == 2 * Cardinality(S \cap Server) > Cardinality(Server)

Max(a, b) == IF a >= b THEN a ELSE b
Range(f) == {f[i] : i \in DOMAIN f}

-----------------------------------------------------------------------------
(* Zxids are <<epoch, counter>> pairs, compared lexicographically.         *)

Zxid == Nat \X Nat
NoZxid == <<0, 0>>          \* the zxid of the empty history
ZxidLt(a, b) == a[1] < b[1] \/ (a[1] = b[1] /\ a[2] < b[2])
ZxidLeq(a, b) == ~ ZxidLt(b, a)

Txn == [zxid : Zxid, value : Value]

LastZxid(h) == IF h = << >> THEN NoZxid ELSE h[Len(h)].zxid

\* Zxid of the i-th entry of h, NoZxid for i = 0.
ZxidAt(h, i) == IF i = 0 THEN NoZxid ELSE h[i].zxid

IsPrefix(s, t) == Len(s) <= Len(t) /\ s = SubSeq(t, 1, Len(s))
IsStrictPrefix(s, t) == Len(s) < Len(t) /\ s = SubSeq(t, 1, Len(s))

\* <<curEpoch, lastZxid>> pairs as the leader compares them in discovery.
NewerState(ce1, z1, ce2, z2) == ce1 > ce2 \/ (ce1 = ce2 /\ ZxidLt(z2, z1))

-----------------------------------------------------------------------------
VARIABLES
    role,           \* "looking", "following", "leading"; "observing" for observers
    phase,          \* "election", "discovery", "sync", "broadcast"
    leader,         \* whom a follower follows (a leader names itself), 0 = none
    currentEpoch,   \* persisted: epoch of the last NEWLEADER accepted / led
    acceptedEpoch,  \* persisted: the highest epoch promised
    history,        \* persisted: the transaction log
    lastCommitted,  \* persisted: length of the prefix of history known committed
    ackeRecv,       \* leader: voters whose ACKEPOCH for its epoch arrived
    ackIndex,       \* leader: per voter, longest prefix acknowledged (-1 = none)
    msgs,           \* ghost: every message ever sent
    proposed,       \* ghost: every Txn a leader ever created
    initHist        \* ghost: epoch |-> history it was established with;
                    \*   DOMAIN initHist is the set of established epochs

persistedVars == <<currentEpoch, acceptedEpoch, history, lastCommitted>>
volatileVars == <<role, phase, leader, ackeRecv, ackIndex>>
ghostVars == <<msgs, proposed, initHist>>
vars == <<role, phase, leader, currentEpoch, acceptedEpoch, history,
          lastCommitted, ackeRecv, ackIndex, msgs, proposed, initHist>>

NoAcks == [v \in Server |-> -1]

-----------------------------------------------------------------------------
(* Messages (the exact records trace validation compares).                 *)

LeaderInfo(src, e) == [type |-> "LEADERINFO", src |-> src, epoch |-> e]
AckEpoch(src, dst, e, ce, z) ==
    [type |-> "ACKEPOCH", src |-> src, dst |-> dst, epoch |-> e,
     curEpoch |-> ce, lastZxid |-> z]
NewLeader(src, dst, e, h) ==
    [type |-> "NEWLEADER", src |-> src, dst |-> dst, epoch |-> e, hist |-> h]
Ack(src, dst, e, len) ==
    [type |-> "ACK", src |-> src, dst |-> dst, epoch |-> e, len |-> len]
Proposal(src, e, h) == [type |-> "PROPOSAL", src |-> src, epoch |-> e, hist |-> h]
Commit(src, e, z) == [type |-> "COMMIT", src |-> src, epoch |-> e, zxid |-> z]
Inform(src, e, h) == [type |-> "INFORM", src |-> src, epoch |-> e, hist |-> h]

Send(S) == msgs' = msgs \cup S

-----------------------------------------------------------------------------
Init ==
    /\ role = [n \in Node |-> IF n \in Server THEN "looking" ELSE "observing"]
    /\ phase = [n \in Node |-> IF n \in Server THEN "election" ELSE "broadcast"]
    /\ leader = [n \in Node |-> 0]
    /\ currentEpoch = [n \in Node |-> 0]
    /\ acceptedEpoch = [n \in Node |-> 0]
    /\ history = [n \in Node |-> << >>]
    /\ lastCommitted = [n \in Node |-> 0]
    /\ ackeRecv = [n \in Node |-> {}]
    /\ ackIndex = [n \in Node |-> NoAcks]
    /\ msgs = {}
    /\ proposed = {}
    /\ initHist = << >>

-----------------------------------------------------------------------------
(* The commit rule, shared by LeaderRecvAck and LeaderPropose. A prefix of *)
(* length i is committed once a quorum holds it: the voters whose ackIndex *)
(* is at least i, plus the leader itself, which holds its whole history.   *)
(* The leader's own entry of ackIndex stays -1.                            *)

CommitPoint(l, h, idx) ==
    LET held == {i \in 1..Len(h) : IsQuorum({v \in Server : idx[v] >= i} \cup {l})}
    IN  IF held = {} THEN 0 ELSE CHOOSE c \in held : \A j \in held : j <= c

\* Raise lastCommitted[l] to the commit point of history h. If it grew, tell
\* followers (COMMIT) and observers (INFORM carries the committed prefix).
\* `announce` forces the messages even if nothing grew: used when the epoch
\* is established, so that for every value lastCommitted[l] takes while l
\* leads in broadcast there is a COMMIT and an INFORM of this epoch in msgs
\* (the implementation's heartbeat Ping{epoch, commitZxid} and an observer's
\* initial Inform are resends of those).
AdvanceCommit(l, h, idx, announce) ==
    LET e  == currentEpoch[l]
        lc == Max(lastCommitted[l], CommitPoint(l, h, idx))
    IN  /\ lastCommitted' = [lastCommitted EXCEPT ![l] = lc]
        /\ IF lc > lastCommitted[l] \/ announce
              THEN msgs' = msgs \cup {Commit(l, e, ZxidAt(h, lc)),
                                      Inform(l, e, SubSeq(h, 1, lc))}
              ELSE UNCHANGED msgs

-----------------------------------------------------------------------------
(* Election: a looking voter decides for l. Any decision is allowed.       *)
(* A new leader picks an epoch it owns above everything it promised, so    *)
(* it can never reuse an epoch, even after a crash (acceptedEpoch is       *)
(* persisted before LEADERINFO is sent).                                   *)
Elect(s, l) ==
    /\ s \in Server
    /\ role[s] = "looking"
    /\ IF l = s
          THEN \E e \in (acceptedEpoch[s] + 1)..MaxEpoch :
                 /\ Owner(e) = s
                 /\ role' = [role EXCEPT ![s] = "leading"]
                 /\ acceptedEpoch' = [acceptedEpoch EXCEPT ![s] = e]
                 /\ Send({LeaderInfo(s, e)})
          ELSE /\ role' = [role EXCEPT ![s] = "following"]
               /\ UNCHANGED <<acceptedEpoch, msgs>>
    /\ phase' = [phase EXCEPT ![s] = "discovery"]
    /\ leader' = [leader EXCEPT ![s] = l]
    /\ UNCHANGED <<currentEpoch, history, lastCommitted, ackeRecv, ackIndex,
                   proposed, initHist>>

(* Discovery, follower side: promise the leader's epoch (never go back),   *)
(* and report where this follower's history stands. After the promise the  *)
(* follower never acknowledges anything of an older epoch again.           *)
FollowerAcceptEpoch(f, m) ==
    /\ role[f] = "following"
    /\ phase[f] = "discovery"
    /\ m.type = "LEADERINFO"
    /\ m.src = leader[f]
    /\ m.epoch >= acceptedEpoch[f]
    /\ acceptedEpoch' = [acceptedEpoch EXCEPT ![f] = m.epoch]
    /\ phase' = [phase EXCEPT ![f] = "sync"]
    /\ Send({AckEpoch(f, m.src, m.epoch, currentEpoch[f], LastZxid(history[f]))})
    /\ UNCHANGED <<role, leader, currentEpoch, history, lastCommitted,
                   ackeRecv, ackIndex, proposed, initHist>>

(* Discovery, leader side. A follower whose history is newer than the      *)
(* leader's means the leader may miss committed entries: it gives up.      *)
(* Once a quorum (with the leader) promised, the leader's history holds    *)
(* everything committed in earlier epochs: it becomes the epoch's initial  *)
(* history, sent to every follower that promised. A follower promising     *)
(* late (sync or broadcast) just gets NEWLEADER: its newer entries, if     *)
(* any, were never committed.                                              *)
LeaderRecvAckEpoch(l, m) ==
    /\ role[l] = "leading"
    /\ m.type = "ACKEPOCH"
    /\ m.dst = l
    /\ m.epoch = acceptedEpoch[l]
    /\ LET e == acceptedEpoch[l]
           A == ackeRecv[l] \cup {m.src}
       IN
       \/ /\ phase[l] = "discovery"
          /\ IF NewerState(m.curEpoch, m.lastZxid,
                           currentEpoch[l], LastZxid(history[l]))
                THEN \* give up: a voter with a newer history must lead
                     /\ role' = [role EXCEPT ![l] = "looking"]
                     /\ phase' = [phase EXCEPT ![l] = "election"]
                     /\ leader' = [leader EXCEPT ![l] = 0]
                     /\ ackeRecv' = [ackeRecv EXCEPT ![l] = {}]
                     /\ UNCHANGED <<currentEpoch, msgs>>
                ELSE /\ ackeRecv' = [ackeRecv EXCEPT ![l] = A]
                     /\ UNCHANGED <<role, leader>>
                     /\ IF IsQuorum(A \cup {l})
                           THEN /\ currentEpoch' = [currentEpoch EXCEPT ![l] = e]
                                /\ phase' = [phase EXCEPT ![l] = "sync"]
                                /\ Send({NewLeader(l, f, e, history[l]) : f \in A})
                           ELSE UNCHANGED <<currentEpoch, phase, msgs>>
       \/ /\ phase[l] \in {"sync", "broadcast"}
          /\ ackeRecv' = [ackeRecv EXCEPT ![l] = A]
          /\ Send({NewLeader(l, m.src, e, history[l])})
          /\ UNCHANGED <<role, phase, leader, currentEpoch>>
    /\ UNCHANGED <<acceptedEpoch, history, lastCommitted, ackIndex,
                   proposed, initHist>>

(* Resend NEWLEADER with the current history to followers that promised.   *)
(* PROTOCOL.md names one follower f; a set F lets one implementation step  *)
(* (a timer tick) resend to several followers at once. F = {f} is the      *)
(* PROTOCOL.md action; larger sets reach no new state. A resend of a       *)
(* message already in msgs changes nothing, so it is left to stuttering.   *)
LeaderResendNewLeader(l, F) ==
    /\ role[l] = "leading"
    /\ phase[l] \in {"sync", "broadcast"}
    /\ F /= {}
    /\ F \subseteq ackeRecv[l]
    /\ LET new == {NewLeader(l, f, currentEpoch[l], history[l]) : f \in F}
       IN  /\ ~ (new \subseteq msgs)
           /\ Send(new)
    /\ UNCHANGED <<role, phase, leader, currentEpoch, acceptedEpoch, history,
                   lastCommitted, ackeRecv, ackIndex, proposed, initHist>>

(* Synchronization, follower side. NEWLEADER replaces the history, except  *)
(* that a follower already synchronized in this epoch keeps a history at   *)
(* least as long: both are prefixes of the leader's history, and a stale   *)
(* or duplicated NEWLEADER must not take back entries the follower acked.  *)
FollowerSync(f, m) ==
    /\ role[f] = "following"
    /\ phase[f] = "sync"
    /\ m.type = "NEWLEADER"
    /\ m.dst = f
    /\ m.src = leader[f]
    /\ m.epoch = acceptedEpoch[f]
    /\ LET h == IF currentEpoch[f] = m.epoch /\ Len(history[f]) >= Len(m.hist)
                   THEN history[f]
                   ELSE m.hist
       IN  /\ history' = [history EXCEPT ![f] = h]
           /\ currentEpoch' = [currentEpoch EXCEPT ![f] = m.epoch]
           /\ phase' = [phase EXCEPT ![f] = "broadcast"]
           /\ Send({Ack(f, m.src, m.epoch, Len(h))})
    /\ UNCHANGED <<role, leader, acceptedEpoch, lastCommitted, ackeRecv,
                   ackIndex, proposed, initHist>>

(* Leader counts acknowledgements (cumulative, so stale duplicates are     *)
(* harmless). A quorum of synchronized voters establishes the epoch; from  *)
(* then on the longest prefix held by a quorum is committed.               *)
LeaderRecvAck(l, m) ==
    /\ role[l] = "leading"
    /\ phase[l] \in {"sync", "broadcast"}
    /\ m.type = "ACK"
    /\ m.dst = l
    /\ m.epoch = currentEpoch[l]
    /\ m.src \in Server
    \* an ACK that acknowledges no more than already counted changes nothing
    \* (the commit point was computed when that much was acknowledged)
    /\ m.len > ackIndex[l][m.src]
    /\ LET e   == currentEpoch[l]
           idx == [ackIndex[l] EXCEPT ![m.src] = Max(@, m.len)]
           establish == /\ phase[l] = "sync"
                        /\ IsQuorum({v \in Server : idx[v] >= 0} \cup {l})
           ph  == IF establish THEN "broadcast" ELSE phase[l]
       IN  /\ ackIndex' = [ackIndex EXCEPT ![l] = idx]
           /\ phase' = [phase EXCEPT ![l] = ph]
           /\ initHist' = IF establish THEN (e :> history[l]) @@ initHist
                                      ELSE initHist
           /\ IF ph = "broadcast"
                 THEN AdvanceCommit(l, history[l], idx, establish)
                 ELSE UNCHANGED <<lastCommitted, msgs>>
    /\ UNCHANGED <<role, leader, currentEpoch, acceptedEpoch, history,
                   ackeRecv, proposed>>

(* Broadcast: the leader appends a batch of new transactions, numbered     *)
(* after the last one of its epoch, and sends its history up to the batch. *)
LeaderPropose(l, batch) ==
    /\ role[l] = "leading"
    /\ phase[l] = "broadcast"
    /\ LET e    == currentEpoch[l]
           last == LastZxid(history[l])
           c0   == IF last[1] = e THEN last[2] ELSE 0
           txns == [i \in 1..Len(batch) |-> [zxid |-> <<e, c0 + i>>,
                                            value |-> batch[i]]]
           h    == history[l] \o txns
       IN  /\ history' = [history EXCEPT ![l] = h]
           /\ proposed' = proposed \cup Range(txns)
           \* the commit recomputation only matters with a single voter
           /\ LET lc == Max(lastCommitted[l], CommitPoint(l, h, ackIndex[l]))
              IN  /\ lastCommitted' = [lastCommitted EXCEPT ![l] = lc]
                  /\ Send({Proposal(l, e, h)} \cup
                          IF lc > lastCommitted[l]
                             THEN {Commit(l, e, ZxidAt(h, lc)),
                                   Inform(l, e, SubSeq(h, 1, lc))}
                             ELSE {})
    /\ UNCHANGED <<role, phase, leader, currentEpoch, acceptedEpoch,
                   ackeRecv, ackIndex, initHist>>

(* A follower accepts a proposal that extends its history.                 *)
FollowerAccept(f, m) ==
    /\ role[f] = "following"
    /\ phase[f] = "broadcast"
    /\ m.type = "PROPOSAL"
    /\ m.src = leader[f]
    /\ m.epoch = currentEpoch[f]
    /\ IsStrictPrefix(history[f], m.hist)
    /\ history' = [history EXCEPT ![f] = m.hist]
    /\ Send({Ack(f, m.src, m.epoch, Len(m.hist))})
    /\ UNCHANGED <<role, phase, leader, currentEpoch, acceptedEpoch,
                   lastCommitted, ackeRecv, ackIndex, proposed, initHist>>

(* A follower's history is a prefix of its leader's, so everything it      *)
(* holds up to the committed zxid is committed.                            *)
FollowerCommit(f, m) ==
    /\ role[f] = "following"
    /\ phase[f] = "broadcast"
    /\ m.type = "COMMIT"
    /\ m.src = leader[f]
    /\ m.epoch = currentEpoch[f]
    /\ LET k == Cardinality({i \in 1..Len(history[f]) :
                               ZxidLeq(history[f][i].zxid, m.zxid)})
       IN  \* lastCommitted := max(lastCommitted, k); when k is not larger
           \* this is a stuttering step, left out
           /\ k > lastCommitted[f]
           /\ lastCommitted' = [lastCommitted EXCEPT ![f] = k]
    /\ UNCHANGED <<role, phase, leader, currentEpoch, acceptedEpoch, history,
                   ackeRecv, ackIndex, msgs, proposed, initHist>>

(* An observer learns committed prefixes, from any leader.                 *)
ObserverLearn(o, m) ==
    /\ o \in Observer
    /\ m.type = "INFORM"
    /\ IsStrictPrefix(history[o], m.hist)
    /\ history' = [history EXCEPT ![o] = m.hist]
    /\ lastCommitted' = [lastCommitted EXCEPT ![o] = Len(m.hist)]
    /\ UNCHANGED <<role, phase, leader, currentEpoch, acceptedEpoch,
                   ackeRecv, ackIndex, msgs, proposed, initHist>>

(* Crash and recover, or a timeout: volatile state is lost. (For a node    *)
(* whose volatile state is already reset, e.g. any observer, this changes  *)
(* nothing: a stuttering step, left out.)                                  *)
Restart(s) ==
    /\ role[s] \notin {"looking", "observing"}
    /\ role' = [role EXCEPT ![s] = IF s \in Server THEN "looking" ELSE "observing"]
    /\ phase' = [phase EXCEPT ![s] = IF s \in Server THEN "election" ELSE "broadcast"]
    /\ leader' = [leader EXCEPT ![s] = 0]
    /\ ackeRecv' = [ackeRecv EXCEPT ![s] = {}]
    /\ ackIndex' = [ackIndex EXCEPT ![s] = NoAcks]
    /\ UNCHANGED <<persistedVars, ghostVars>>

-----------------------------------------------------------------------------
Batch == UNION {[1..k -> Value] : k \in 1..MaxBatch}

\* Receiving a message: only its addressee (or, for messages without dst,
\* the nodes that may act on it) can take the step.
Receive(m) ==
    \/ m.type = "LEADERINFO" /\ \E f \in Server : FollowerAcceptEpoch(f, m)
    \/ m.type = "ACKEPOCH"   /\ LeaderRecvAckEpoch(m.dst, m)
    \/ m.type = "NEWLEADER"  /\ FollowerSync(m.dst, m)
    \/ m.type = "ACK"        /\ LeaderRecvAck(m.dst, m)
    \/ m.type = "PROPOSAL"   /\ \E f \in Server : FollowerAccept(f, m)
    \/ m.type = "COMMIT"     /\ \E f \in Server : FollowerCommit(f, m)
    \/ m.type = "INFORM"     /\ \E o \in Observer : ObserverLearn(o, m)

\* The next-state relation, with the batches a leader may propose as a
\* parameter: Next enumerates every batch of up to MaxBatch values;
\* ZabTrace reads the batch off the trace instead (Value may be large there).
NextWith(Batches(_)) ==
    \/ \E s, l \in Server : Elect(s, l)
    \/ \E m \in msgs : Receive(m)
    \/ \E l \in Server : \E F \in SUBSET ackeRecv[l] : LeaderResendNewLeader(l, F)
    \/ \E l \in Server : \E b \in Batches(l) : LeaderPropose(l, b)
    \/ \E n \in Node : Restart(n)

AnyBatch(l) == Batch

Next == NextWith(AnyBatch)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants (same names as PROTOCOL.md and invariants.ts).               *)

\* The message records (a CASE rather than a union of record sets: faster).
IsMessage(m) ==
    CASE m.type = "LEADERINFO" ->
            m \in [type : {"LEADERINFO"}, src : Server, epoch : Nat]
      [] m.type = "ACKEPOCH" ->
            m \in [type : {"ACKEPOCH"}, src : Server, dst : Server, epoch : Nat,
                   curEpoch : Nat, lastZxid : Zxid]
      [] m.type = "NEWLEADER" ->
            m \in [type : {"NEWLEADER"}, src : Server, dst : Server, epoch : Nat,
                   hist : Seq(Txn)]
      [] m.type = "ACK" ->
            m \in [type : {"ACK"}, src : Server, dst : Server, epoch : Nat, len : Nat]
      [] m.type = "PROPOSAL" ->
            m \in [type : {"PROPOSAL"}, src : Server, epoch : Nat, hist : Seq(Txn)]
      [] m.type = "COMMIT" ->
            m \in [type : {"COMMIT"}, src : Server, epoch : Nat, zxid : Zxid]
      [] m.type = "INFORM" ->
            m \in [type : {"INFORM"}, src : Server, epoch : Nat, hist : Seq(Txn)]
      [] OTHER -> FALSE

TypeOK ==
    /\ role \in [Node -> {"looking", "following", "leading", "observing"}]
    /\ phase \in [Node -> {"election", "discovery", "sync", "broadcast"}]
    /\ leader \in [Node -> Server \cup {0}]
    /\ currentEpoch \in [Node -> Nat]
    /\ acceptedEpoch \in [Node -> Nat]
    /\ history \in [Node -> Seq(Txn)]
    /\ lastCommitted \in [Node -> Nat]
    /\ ackeRecv \in [Node -> SUBSET Server]
    /\ ackIndex \in [Node -> [Server -> Int]]
    /\ \A m \in msgs : IsMessage(m)
    /\ proposed \subseteq Txn
    /\ DOMAIN initHist \subseteq 1..MaxEpoch
    /\ \A e \in DOMAIN initHist : initHist[e] \in Seq(Txn)
    \* observers never take part in elections or epochs
    /\ \A o \in Observer :
          /\ role[o] = "observing" /\ phase[o] = "broadcast" /\ leader[o] = 0
          /\ currentEpoch[o] = 0 /\ acceptedEpoch[o] = 0

\* What n has delivered.
Committed(n) == SubSeq(history[n], 1, lastCommitted[n])

CommittedWithinHistory == \A n \in Node : lastCommitted[n] <= Len(history[n])

\* The delivery invariants are stated for a set D of delivered sequences.
\* Delivered is the set of distinct sequences the nodes delivered (one or
\* two, usually: cheaper for TLC than all pairs of nodes), leaving out nodes
\* where CommittedWithinHistory fails, so that its violation is reported as
\* such rather than as an evaluation error.
Delivered == {Committed(n) : n \in {x \in Node : lastCommitted[x] <= Len(history[x])}}

IntegrityOf(D) == \A c \in D : Range(c) \subseteq proposed

AgreementOf(D) == \A c1, c2 \in D : IsPrefix(c1, c2) \/ IsPrefix(c2, c1)

TotalOrderOf(D) ==
    \A c1, c2 \in D :
        \A i, j \in 1..Len(c1) :
            (i < j /\ c1[j] \in Range(c2)) =>
                \E k1, k2 \in 1..Len(c2) : k1 < k2 /\ c2[k1] = c1[i] /\ c2[k2] = c1[j]

LocalPrimaryOrderOf(D) ==
    \A c \in D :
        \A i \in 1..Len(c), t \in proposed :
            (t.zxid[1] = c[i].zxid[1] /\ t.zxid[2] < c[i].zxid[2])
                => \E j \in 1..(i - 1) : c[j] = t

GlobalPrimaryOrderOf(D) ==
    \A c \in D : \A i \in 1..(Len(c) - 1) : ZxidLt(c[i].zxid, c[i + 1].zxid)

PrimaryIntegrityOf(D) ==
    \A e \in DOMAIN initHist, c \in D :
        \A i \in 1..Len(c) : c[i].zxid[1] < e => c[i] \in Range(initHist[e])

Integrity          == IntegrityOf(Delivered)
Agreement          == AgreementOf(Delivered)
TotalOrder         == TotalOrderOf(Delivered)
LocalPrimaryOrder  == LocalPrimaryOrderOf(Delivered)
GlobalPrimaryOrder == GlobalPrimaryOrderOf(Delivered)
PrimaryIntegrity   == PrimaryIntegrityOf(Delivered)

\* An observer may deliver the history of any INFORM ever sent (it jumps
\* from its current history to any INFORM that extends it, and from the
\* empty history to any INFORM at all). So every INFORM's history must pass
\* the delivery invariants together with what the nodes delivered. This
\* covers observers even in a model without any (Observer = {}), where it
\* also acts as a log of every committed prefix a leader ever announced.
InformsDeliverable ==
    LET D == Delivered \cup {m.hist : m \in {i \in msgs : i.type = "INFORM"}}
    IN  /\ IntegrityOf(D)
        /\ AgreementOf(D)
        /\ TotalOrderOf(D)
        /\ LocalPrimaryOrderOf(D)
        /\ GlobalPrimaryOrderOf(D)
        /\ PrimaryIntegrityOf(D)

OneLeaderPerEpoch ==
    \A n1, n2 \in Server :
        (/\ n1 /= n2
         /\ role[n1] = "leading" /\ phase[n1] = "broadcast"
         /\ role[n2] = "leading" /\ phase[n2] = "broadcast")
        => currentEpoch[n1] /= currentEpoch[n2]

HistoryZxidsIncrease ==
    \A n \in Node : \A i \in 1..(Len(history[n]) - 1) :
        ZxidLt(history[n][i].zxid, history[n][i + 1].zxid)

-----------------------------------------------------------------------------
(* Model checking only (Zab.cfg, Zab.deep.cfg; never trace validation).    *)

\* Value is a set of interchangeable model values.
Symm == Permutations(Value)

\* State constraint for model checking:
\*  - values are unique: every proposed transaction carries a different
\*    value (distinct client requests). This bounds the transactions to
\*    Cardinality(Value), and makes a mix-up of two transactions visible;
\*  - a follower in discovery has decided for a voter that did send it a
\*    LEADERINFO it can accept. This loses no behaviour: a follower that
\*    decided for anybody else can only time out (Restart), and its Elect
\*    step touches nothing but its own volatile state, so it commutes with
\*    every other step and can be postponed until such a LEADERINFO exists.
StateConstraint ==
    /\ \A t1, t2 \in proposed : t1.value = t2.value => t1 = t2
    /\ \A f \in Server :
          (role[f] = "following" /\ phase[f] = "discovery")
             => \E m \in msgs : /\ m.type = "LEADERINFO"
                               /\ m.src = leader[f]
                               /\ m.epoch >= acceptedEpoch[f]

\* Dead messages. A message is live if it may still enable a step that
\* matters. The others can never again be received with any effect (except,
\* for a dead LEADERINFO, moving a follower into a sync phase it can only
\* leave by Restart, which reaches nothing new), because acceptedEpoch only
\* grows, a leader never leads the same epoch twice, a follower acts on
\* epoch-e messages only while its acceptedEpoch is e (and is in broadcast
\* only when currentEpoch = acceptedEpoch), its history only grows while its
\* currentEpoch stays (and so does the zxid of its last committed entry),
\* a leader's history only grows, ackIndex and ackeRecv only grow while a
\* leader leads, and an observer's history only grows. The conditions are
\* conservative: a message they call live may in fact be dead.

Leads(l, e) == role[l] = "leading" /\ acceptedEpoch[l] = e

\* For speed, LiveMsg looks at NEWLEADERs through nls, the set of
\* <<dst, epoch, Len(hist)>> of every NEWLEADER in msgs.
NewLeaderSummary ==
    {<<m.dst, m.epoch, Len(m.hist)>> : m \in {n \in msgs : n.type = "NEWLEADER"}}
SomeNewLeaderTo(nls, f, e) == \E x \in nls : x[1] = f /\ x[2] = e

\* f is, or may still become, a follower in broadcast at epoch e.
CanReachEpoch(nls, f, e) ==
    \/ currentEpoch[f] = e /\ acceptedEpoch[f] = e
    \/ /\ acceptedEpoch[f] <= e /\ currentEpoch[f] < e
       /\ \/ Leads(Owner(e), e)
          \/ SomeNewLeaderTo(nls, f, e)

\* A NEWLEADER that cannot change f's history (see FollowerSync): all such
\* messages for one follower and epoch have the same effect.
DominatedNewLeader(m) ==
    /\ m.type = "NEWLEADER"
    /\ currentEpoch[m.dst] = m.epoch
    /\ Len(history[m.dst]) >= Len(m.hist)

LiveMsg(nls, m) ==
    CASE m.type = "LEADERINFO" ->
            \E f \in Server \ {m.src} :
               \/ acceptedEpoch[f] < m.epoch
               \/ /\ acceptedEpoch[f] = m.epoch
                  /\ \/ Leads(m.src, m.epoch)
                     \/ SomeNewLeaderTo(nls, f, m.epoch)
      [] m.type = "ACKEPOCH" ->
            \* once m.src is in ackeRecv, receiving m again is a no-op in
            \* discovery, and LeaderResendNewLeader(m.dst, {m.src}) after it
            Leads(m.dst, m.epoch) /\ m.src \notin ackeRecv[m.dst]
      [] m.type = "NEWLEADER" ->
            acceptedEpoch[m.dst] <= m.epoch
      [] m.type = "ACK" ->
            Leads(m.dst, m.epoch) /\ ackIndex[m.dst][m.src] < m.len
      [] m.type = "PROPOSAL" ->
            \E f \in Server \ {m.src} :
               IF currentEpoch[f] = m.epoch
                  THEN acceptedEpoch[f] = m.epoch /\ Len(history[f]) < Len(m.hist)
                  ELSE /\ acceptedEpoch[f] <= m.epoch
                       /\ \E x \in nls : /\ x[1] = f /\ x[2] = m.epoch
                                        /\ x[3] < Len(m.hist)
      [] m.type = "COMMIT" ->
            /\ m.zxid /= NoZxid
            /\ \E f \in Server \ {m.src} :
                  /\ CanReachEpoch(nls, f, m.epoch)
                  /\ ~ (/\ currentEpoch[f] = m.epoch
                        /\ lastCommitted[f] \in 1..Len(history[f])
                        /\ ZxidLeq(m.zxid, history[f][lastCommitted[f]].zxid))
      [] m.type = "INFORM" ->
            \E o \in Observer : IsStrictPrefix(history[o], m.hist)

\* VIEW for model checking: states that differ only in dead messages have
\* the same futures and satisfy the same invariants, so TLC may identify
\* them. Messages with the same effect are also identified: dominated
\* NEWLEADERs to one follower for one epoch are interchangeable, and an
\* observer only uses the history an INFORM carries. (The histories of all
\* INFORMs, dead or alive, stay in the view: InformsDeliverable reads them.
\* No other invariant reads msgs.)
View ==
    LET nls  == NewLeaderSummary
        live == {m \in msgs : LiveMsg(nls, m)}
    IN  <<role, phase, leader, currentEpoch, acceptedEpoch, history,
          lastCommitted, ackeRecv, ackIndex,
          {m \in live : m.type /= "INFORM" /\ ~ DominatedNewLeader(m)},
          {m.hist : m \in {i \in msgs : i.type = "INFORM"}},
          {<<m.dst, m.epoch>> : m \in {n \in live : DominatedNewLeader(n)}},
          proposed, initHist>>

=============================================================================
