package sequent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * ZooKeeper client-interop checks through the official Java client (org.apache.zookeeper 3.9),
 * run against any server that speaks the ZooKeeper protocol.
 *
 * <p>Usage: {@code ZkInterop <connectString> [--only a,b] [--list] [--container-wait-ms N]}.
 * Prints one line per check, {@code PASS name} or {@code FAIL name: reason}, and exits 1 if any
 * check failed (2 on a usage error). Every check works under its own fresh root znode.
 */
public final class ZkInterop {

    // ----------------------------------------------------------------------------------------
    // Harness

    interface Body {
        void run(Ctx ctx) throws Exception;
    }

    record Check(String name, Body body) {}

    static final class CheckFailed extends RuntimeException {
        CheckFailed(String message) {
            super(message);
        }
    }

    static final class Ctx {
        /** The one server ("host:port") every client of this check talks to. */
        final String home;
        final String root;
        final long containerWaitMs;
        final List<ZooKeeper> clients = new ArrayList<>();

        Ctx(String home, String root, long containerWaitMs) {
            this.home = home;
            this.root = root;
            this.containerWaitMs = containerWaitMs;
        }

        /**
         * A connected client (10 s session) that is closed when the check ends. All clients of a
         * check use the same server, so one client's completed write is visible to the others
         * without sync() even on an ensemble (each server is sequentially consistent).
         */
        ZooKeeper client() throws Exception {
            ZooKeeper zk = connect(home, 10_000);
            clients.add(zk);
            return zk;
        }

        String path(String rel) {
            return root + "/" + rel;
        }

        void closeAll() {
            for (ZooKeeper zk : clients) {
                try {
                    zk.close(2000);
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    static ZooKeeper connect(String connectString, int sessionTimeoutMs) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, sessionTimeoutMs, e -> {
            if (e.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(20, TimeUnit.SECONDS)) {
            zk.close();
            throw new CheckFailed("could not connect to " + connectString + " within 20 s");
        }
        return zk;
    }

    static void check(boolean cond, String message) {
        if (!cond) {
            throw new CheckFailed(message);
        }
    }

    static void eq(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new CheckFailed(what + ": expected " + expected + ", got " + actual);
        }
    }

    interface Action {
        void run() throws Exception;
    }

    /** Runs {@code action}, which must fail with exactly {@code code}. */
    static KeeperException fails(KeeperException.Code code, String what, Action action) throws Exception {
        try {
            action.run();
        } catch (KeeperException e) {
            if (e.code() != code) {
                throw new CheckFailed(what + ": expected " + code + ", got " + e.code() + " (" + e.getMessage() + ")");
            }
            return e;
        }
        throw new CheckFailed(what + ": expected " + code + ", but it succeeded");
    }

    interface Cond {
        boolean holds() throws Exception;
    }

    static void eventually(long timeoutMs, String what, Cond cond) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!cond.holds()) {
            if (System.currentTimeMillis() > deadline) {
                throw new CheckFailed("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static int seqOf(String path) {
        String suffix = path.substring(path.length() - 10);
        check(suffix.chars().allMatch(Character::isDigit), path + " has no 10-digit sequence suffix");
        return Integer.parseInt(suffix);
    }

    /** Records the events a watcher receives. */
    static final class Events implements Watcher {
        final BlockingQueue<WatchedEvent> queue = new LinkedBlockingQueue<>();

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() != EventType.None) {
                queue.add(event);
            }
        }

        void expect(EventType type, String path, long timeoutMs) throws InterruptedException {
            WatchedEvent e = queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new CheckFailed("no " + type + " event for " + path + " within " + timeoutMs + " ms");
            }
            if (e.getType() != type || !Objects.equals(e.getPath(), path)) {
                throw new CheckFailed("expected " + type + "@" + path + ", got " + e.getType() + "@" + e.getPath());
            }
        }

        void expectNone(long ms, String what) throws InterruptedException {
            WatchedEvent e = queue.poll(ms, TimeUnit.MILLISECONDS);
            if (e != null) {
                throw new CheckFailed(what + ": unexpected " + e.getType() + "@" + e.getPath());
            }
        }
    }

    static final long QUIET_MS = 400;
    static final long EVENT_MS = 5000;
    static final List<ACL> OPEN = Ids.OPEN_ACL_UNSAFE;

    /** A mutable ACL list: the client's validateACL calls contains(null), which List.of rejects. */
    static List<ACL> acls(ACL... acl) {
        return new ArrayList<>(Arrays.asList(acl));
    }

    static ACL digestAcl(int perms, String user, String password) throws Exception {
        return new ACL(perms, new Id("digest", DigestAuthenticationProvider.generateDigest(user + ":" + password)));
    }

    // ----------------------------------------------------------------------------------------
    // Checks

    static final List<Check> CHECKS = List.of(
        new Check("createModes", ZkInterop::createModes),
        new Check("ephemeralOwnerVisible", ZkInterop::ephemeralOwnerVisible),
        new Check("create2Stat", ZkInterop::create2Stat),
        new Check("sequentialCounter", ZkInterop::sequentialCounter),
        new Check("containerLifecycle", ZkInterop::containerLifecycle),
        new Check("ttlExpiry", ZkInterop::ttlExpiry),
        new Check("casAndVersions", ZkInterop::casAndVersions),
        new Check("errorCodes", ZkInterop::errorCodes),
        new Check("multiAtomic", ZkInterop::multiAtomic),
        new Check("multiRead", ZkInterop::multiRead),
        new Check("oneShotWatches", ZkInterop::oneShotWatches),
        new Check("persistentWatch", ZkInterop::persistentWatch),
        new Check("persistentRecursiveWatch", ZkInterop::persistentRecursiveWatch),
        new Check("removeWatches", ZkInterop::removeWatches),
        new Check("getEphemeralsAndAllChildrenNumber", ZkInterop::getEphemeralsAndAllChildrenNumber),
        new Check("whoAmI", ZkInterop::whoAmI),
        new Check("aclDigest", ZkInterop::aclDigest),
        new Check("sessionCloseRemovesEphemerals", ZkInterop::sessionCloseRemovesEphemerals),
        new Check("syncThenRead", ZkInterop::syncThenRead),
        new Check("systemNodes", ZkInterop::systemNodes)
    );

    /** Create modes 0-6 through create/create2/createContainer/createTTL: paths and data. */
    static void createModes(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        eq(ctx.path("p"), a.create(ctx.path("p"), bytes("0"), OPEN, CreateMode.PERSISTENT), "mode 0 path");
        eq(ctx.path("e"), a.create(ctx.path("e"), bytes("1"), OPEN, CreateMode.EPHEMERAL), "mode 1 path");
        String ps = a.create(ctx.path("ps-"), bytes("2"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL);
        String es = a.create(ctx.path("es-"), bytes("3"), OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        check(ps.matches(ctx.root + "/ps-\\d{10}"), "mode 2 path " + ps);
        check(es.matches(ctx.root + "/es-\\d{10}"), "mode 3 path " + es);
        check(seqOf(es) > seqOf(ps), "sequence numbers increase: " + ps + " then " + es);
        eq(ctx.path("c"), a.create(ctx.path("c"), bytes("4"), OPEN, CreateMode.CONTAINER), "mode 4 path");
        Stat ttlStat = new Stat();
        eq(ctx.path("t"), a.create(ctx.path("t"), bytes("5"), OPEN, CreateMode.PERSISTENT_WITH_TTL, ttlStat, 60_000), "mode 5 path");
        String ts = a.create(ctx.path("ts-"), bytes("6"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 60_000);
        check(ts.matches(ctx.root + "/ts-\\d{10}"), "mode 6 path " + ts);
        String[] paths = {ctx.path("p"), ctx.path("e"), ps, es, ctx.path("c"), ctx.path("t"), ts};
        for (int mode = 0; mode < paths.length; mode++) {
            eq(String.valueOf(mode), str(b.getData(paths[mode], false, null)), "data of the mode " + mode + " node");
        }
        List<String> kids = b.getChildren(ctx.root, false);
        Collections.sort(kids);
        List<String> expected = new ArrayList<>();
        for (String p : paths) {
            expected.add(p.substring(ctx.root.length() + 1));
        }
        Collections.sort(expected);
        eq(expected, kids, "children");
        a.close();
        eq(null, b.exists(ctx.path("e"), false), "ephemeral after its session closed");
        eq(null, b.exists(es, false), "ephemeral-sequential after its session closed");
        for (String p : new String[] {ctx.path("p"), ps, ctx.path("c"), ctx.path("t"), ts}) {
            check(b.exists(p, false) != null, p + " must survive its creator's session");
        }
    }

    /**
     * Stat.ephemeralOwner as clients see it: the session id for ephemerals, 0 for everything else.
     * (Containers and TTL nodes keep a marker in the server's own stat, which clients never see.)
     */
    static void ephemeralOwnerVisible(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        a.create(ctx.path("p"), null, OPEN, CreateMode.PERSISTENT);
        a.create(ctx.path("e"), null, OPEN, CreateMode.EPHEMERAL);
        String es = a.create(ctx.path("es-"), null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        a.create(ctx.path("c"), null, OPEN, CreateMode.CONTAINER);
        a.create(ctx.path("t"), null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 12_345);
        eq(0L, a.exists(ctx.path("p"), false).getEphemeralOwner(), "persistent owner");
        eq(a.getSessionId(), a.exists(ctx.path("e"), false).getEphemeralOwner(), "ephemeral owner");
        eq(a.getSessionId(), a.exists(es, false).getEphemeralOwner(), "ephemeral-sequential owner");
        eq(0L, a.exists(ctx.path("c"), false).getEphemeralOwner(), "container owner");
        eq(0L, a.exists(ctx.path("t"), false).getEphemeralOwner(), "TTL owner");
    }

    /** create2 fills in the new node's Stat, equal to what exists() returns. */
    static void create2Stat(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        long before = System.currentTimeMillis();
        Stat s = new Stat();
        a.create(ctx.path("n"), bytes("hello"), OPEN, CreateMode.PERSISTENT, s);
        eq(a.exists(ctx.path("n"), false), s, "create2 stat vs exists");
        eq(s.getCzxid(), s.getMzxid(), "mzxid == czxid");
        eq(s.getCzxid(), s.getPzxid(), "pzxid == czxid");
        eq(s.getCtime(), s.getMtime(), "mtime == ctime");
        eq(0, s.getVersion(), "version");
        eq(0, s.getCversion(), "cversion");
        eq(0, s.getAversion(), "aversion");
        eq(5, s.getDataLength(), "dataLength");
        eq(0, s.getNumChildren(), "numChildren");
        check(Math.abs(s.getCtime() - before) < 60_000, "ctime " + s.getCtime() + " is not about now (" + before + ")");
        Stat e = new Stat();
        a.create(ctx.path("e"), null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL, e);
        eq(a.getSessionId(), e.getEphemeralOwner(), "create2 stat of an ephemeral");
        eq(0, e.getDataLength(), "null data has length 0");
        check(e.getCzxid() > s.getCzxid(), "zxids increase");
        Stat parent = a.exists(ctx.root, false);
        eq(e.getCzxid(), parent.getPzxid(), "parent pzxid is the last child create");
        eq(2, parent.getNumChildren(), "parent numChildren");
        a.create(ctx.path("nulldata"), null, OPEN, CreateMode.PERSISTENT);
        byte[] nd = a.getData(ctx.path("nulldata"), false, null);
        check(nd == null || nd.length == 0, "null data reads back empty");
    }

    /** Sequence numbers count the parent's child creates; Stat.cversion counts creates + deletes. */
    static void sequentialCounter(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String p = ctx.path("q");
        a.create(p, null, OPEN, CreateMode.PERSISTENT);
        eq(p + "/x-0000000000", a.create(p + "/x-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL), "first");
        a.create(p + "/plain", null, OPEN, CreateMode.PERSISTENT);
        a.delete(p + "/plain", -1);
        eq(p + "/x-0000000002", a.create(p + "/x-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL), "after create+delete");
        eq(4, a.exists(p, false).getCversion(), "cversion after 3 creates and 1 delete");
        // The name may end in "/": the child is then just the number.
        eq(p + "/0000000003", a.create(p + "/", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL), "empty prefix");
        Stat st = a.exists(p, false);
        eq(5, st.getCversion(), "cversion");
        eq(3, st.getNumChildren(), "numChildren");
    }

    /** A container is deleted once it had children and has none; one that never had any stays. */
    static void containerLifecycle(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String c = ctx.path("c");
        String never = ctx.path("never");
        a.create(c, null, OPEN, CreateMode.CONTAINER);
        a.create(never, null, OPEN, CreateMode.CONTAINER);
        a.create(c + "/child", null, OPEN, CreateMode.PERSISTENT);
        Events w = new Events();
        check(a.exists(c, w) != null, "container exists");
        a.delete(c + "/child", -1);
        w.expect(EventType.NodeDeleted, c, ctx.containerWaitMs);
        eq(null, a.exists(c, false), "emptied container");
        check(a.exists(never, false) != null, "a container that never had children must stay");
        // A container can hold children and itself be created under a container.
        a.create(never + "/sub", null, OPEN, CreateMode.CONTAINER);
        a.create(never + "/sub/leaf", null, OPEN, CreateMode.EPHEMERAL);
        check(a.exists(never + "/sub", false) != null, "nested container");
    }

    /** A TTL node with no children is deleted once unmodified for longer than its TTL. */
    static void ttlExpiry(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        Events w = new Events();
        String t = ctx.path("t");
        a.create(t, bytes("x"), OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 1000);
        String ts = a.create(ctx.path("ts-"), null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 1000);
        String parent = ctx.path("withChild");
        a.create(parent, null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 1000);
        a.create(parent + "/kid", null, OPEN, CreateMode.PERSISTENT);
        String longLived = ctx.path("long");
        a.create(longLived, null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3_600_000);
        check(a.exists(t, w) != null, "TTL node exists");
        w.expect(EventType.NodeDeleted, t, ctx.containerWaitMs + 1000);
        eventually(ctx.containerWaitMs, "sequential TTL node to expire", () -> a.exists(ts, false) == null);
        check(a.exists(parent, false) != null, "a TTL node with a child must stay");
        check(a.exists(longLived, false) != null, "a TTL node within its TTL must stay");
        // TTLs out of range are refused.
        try {
            a.create(ctx.path("bad"), null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 0);
            throw new CheckFailed("TTL 0 accepted");
        } catch (IllegalArgumentException | KeeperException expected) {
            // client-side validation (IllegalArgumentException) or BadArguments from the server
        }
    }

    /** setData/delete compare-and-set on versions. */
    static void casAndVersions(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String n = ctx.path("n");
        a.create(n, bytes("v0"), OPEN, CreateMode.PERSISTENT);
        Stat s1 = a.setData(n, bytes("v1"), 0);
        eq(1, s1.getVersion(), "version after a matching CAS");
        fails(KeeperException.Code.BADVERSION, "stale setData", () -> a.setData(n, bytes("stale"), 0));
        fails(KeeperException.Code.BADVERSION, "future setData", () -> a.setData(n, bytes("future"), 9));
        eq("v1", str(a.getData(n, false, null)), "data after failed CAS");
        eq(2, a.setData(n, bytes("v2"), -1).getVersion(), "-1 matches any version");
        Stat read = new Stat();
        eq("v2", str(a.getData(n, false, read)), "data");
        eq(2, read.getVersion(), "getData stat version");
        fails(KeeperException.Code.BADVERSION, "stale delete", () -> a.delete(n, 1));
        a.delete(n, 2);
        fails(KeeperException.Code.NONODE, "second delete", () -> a.delete(n, 2));
    }

    /** The error codes ZooKeeper returns for the usual mistakes. */
    static void errorCodes(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String missing = ctx.path("missing");
        fails(KeeperException.Code.NONODE, "getData", () -> a.getData(missing, false, null));
        fails(KeeperException.Code.NONODE, "setData", () -> a.setData(missing, bytes("x"), -1));
        fails(KeeperException.Code.NONODE, "delete", () -> a.delete(missing, -1));
        fails(KeeperException.Code.NONODE, "getChildren", () -> a.getChildren(missing, false));
        fails(KeeperException.Code.NONODE, "getACL", () -> a.getACL(missing, new Stat()));
        fails(KeeperException.Code.NONODE, "setACL", () -> a.setACL(missing, OPEN, -1));
        fails(KeeperException.Code.NONODE, "create without parent", () -> a.create(missing + "/c", null, OPEN, CreateMode.PERSISTENT));
        fails(KeeperException.Code.NONODE, "getAllChildrenNumber", () -> a.getAllChildrenNumber(missing));
        eq(null, a.exists(missing, false), "exists of a missing node");
        a.create(ctx.path("a"), null, OPEN, CreateMode.PERSISTENT);
        fails(KeeperException.Code.NODEEXISTS, "create twice", () -> a.create(ctx.path("a"), null, OPEN, CreateMode.PERSISTENT));
        fails(KeeperException.Code.NODEEXISTS, "container over a node", () -> a.create(ctx.path("a"), null, OPEN, CreateMode.CONTAINER));
        a.create(ctx.path("a/b"), null, OPEN, CreateMode.PERSISTENT);
        fails(KeeperException.Code.NOTEMPTY, "delete non-empty", () -> a.delete(ctx.path("a"), -1));
        a.create(ctx.path("e"), null, OPEN, CreateMode.EPHEMERAL);
        fails(KeeperException.Code.NOCHILDRENFOREPHEMERALS, "child of ephemeral",
            () -> a.create(ctx.path("e/c"), null, OPEN, CreateMode.PERSISTENT));
        fails(KeeperException.Code.NODEEXISTS, "create /", () -> a.create("/", null, OPEN, CreateMode.PERSISTENT));
        fails(KeeperException.Code.BADARGUMENTS, "delete /", () -> a.delete("/", -1));
        fails(KeeperException.Code.INVALIDACL, "'auth' ACL without credentials",
            () -> a.create(ctx.path("x"), null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
    }

    /** multi: all ops apply atomically, or none do (with per-op error results). */
    static void multiAtomic(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String x = ctx.path("x");
        a.create(x, bytes("x0"), OPEN, CreateMode.PERSISTENT);
        List<OpResult> ok = a.multi(Arrays.asList(
            Op.create(ctx.path("p"), bytes("p"), OPEN, CreateMode.PERSISTENT),
            Op.create(ctx.path("p/c"), bytes("c"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL),
            Op.setData(x, bytes("x1"), 0),
            Op.check(x, 1),
            Op.delete(ctx.path("p/c0000000000"), -1)));
        eq(5, ok.size(), "result count");
        check(ok.get(0) instanceof OpResult.CreateResult, "create result: " + ok.get(0));
        eq(ctx.path("p"), ((OpResult.CreateResult) ok.get(0)).getPath(), "create path");
        eq(ctx.path("p/c0000000000"), ((OpResult.CreateResult) ok.get(1)).getPath(), "sequential create path in a multi");
        check(ok.get(2) instanceof OpResult.SetDataResult, "setData result");
        eq(1, ((OpResult.SetDataResult) ok.get(2)).getStat().getVersion(), "setData result version");
        check(ok.get(3) instanceof OpResult.CheckResult, "check result");
        check(ok.get(4) instanceof OpResult.DeleteResult, "delete result");
        eq(null, a.exists(ctx.path("p/c0000000000"), false), "deleted within the multi");
        Stat px = a.exists(ctx.path("p"), false);
        eq(px.getCzxid(), a.exists(x, false).getMzxid(), "one multi, one zxid");

        Stat before = a.exists(x, false);
        KeeperException e = fails(KeeperException.Code.BADVERSION, "multi with a stale check", () -> a.multi(Arrays.asList(
            Op.create(ctx.path("new"), null, OPEN, CreateMode.PERSISTENT),
            Op.setData(x, bytes("x2"), -1),
            Op.check(x, 0),
            Op.delete(ctx.path("p"), -1))));
        List<OpResult> rs = e.getResults();
        check(rs != null && rs.size() == 4, "a failed multi returns one result per op: " + rs);
        List<Integer> errs = rs.stream().map(r -> ((OpResult.ErrorResult) r).getErr()).collect(Collectors.toList());
        eq(List.of(0, 0, KeeperException.Code.BADVERSION.intValue(), KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()), errs,
            "per-op errors");
        eq(null, a.exists(ctx.path("new"), false), "create of a failed multi");
        eq(before, a.exists(x, false), "stat after a failed multi");
        eq("x1", str(a.getData(x, false, null)), "data after a failed multi");
        check(a.exists(ctx.path("p"), false) != null, "delete of a failed multi");

        // The Transaction builder is the same thing.
        List<OpResult> tr = a.transaction().create(ctx.path("t"), null, OPEN, CreateMode.EPHEMERAL).setData(x, bytes("x3"), 1).commit();
        eq(2, tr.size(), "transaction results");
        eq(a.getSessionId(), a.exists(ctx.path("t"), false).getEphemeralOwner(), "ephemeral created in a multi");
    }

    /** multi of read ops (multiRead): per-op results, a failing read does not fail the others. */
    static void multiRead(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        String p = ctx.path("p");
        a.create(p, bytes("pdata"), OPEN, CreateMode.PERSISTENT);
        a.create(p + "/a", null, OPEN, CreateMode.PERSISTENT);
        a.create(p + "/b", null, OPEN, CreateMode.PERSISTENT);
        List<OpResult> rs = a.multi(Arrays.asList(Op.getData(p), Op.getChildren(p), Op.getData(ctx.path("missing")), Op.getChildren(p + "/a")));
        eq(4, rs.size(), "result count");
        check(rs.get(0) instanceof OpResult.GetDataResult, "getData result: " + rs.get(0));
        OpResult.GetDataResult gd = (OpResult.GetDataResult) rs.get(0);
        eq("pdata", str(gd.getData()), "getData data");
        eq(a.exists(p, false), gd.getStat(), "getData stat");
        check(rs.get(1) instanceof OpResult.GetChildrenResult, "getChildren result: " + rs.get(1));
        List<String> kids = new ArrayList<>(((OpResult.GetChildrenResult) rs.get(1)).getChildren());
        Collections.sort(kids);
        eq(List.of("a", "b"), kids, "getChildren children");
        check(rs.get(2) instanceof OpResult.ErrorResult, "missing node: " + rs.get(2));
        eq(KeeperException.Code.NONODE.intValue(), ((OpResult.ErrorResult) rs.get(2)).getErr(), "missing node error");
        eq(List.of(), ((OpResult.GetChildrenResult) rs.get(3)).getChildren(), "leaf children");
    }

    /** getData/getChildren/exists watches fire once. */
    static void oneShotWatches(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        String n = ctx.path("n");
        b.create(n, bytes("0"), OPEN, CreateMode.PERSISTENT);
        Events data = new Events();
        Events kids = new Events();
        Events later = new Events();
        a.getData(n, data, null);
        a.getChildren(n, kids);
        eq(null, a.exists(ctx.path("later"), later), "exists of a missing node");
        b.setData(n, bytes("1"), -1);
        b.setData(n, bytes("2"), -1);
        data.expect(EventType.NodeDataChanged, n, EVENT_MS);
        b.create(n + "/c1", null, OPEN, CreateMode.PERSISTENT);
        b.create(n + "/c2", null, OPEN, CreateMode.PERSISTENT);
        kids.expect(EventType.NodeChildrenChanged, n, EVENT_MS);
        b.create(ctx.path("later"), null, OPEN, CreateMode.PERSISTENT);
        later.expect(EventType.NodeCreated, ctx.path("later"), EVENT_MS);
        b.setData(ctx.path("later"), bytes("x"), -1);
        data.expectNone(QUIET_MS, "second data change");
        kids.expectNone(0, "second child change");
        later.expectNone(0, "change after NodeCreated");
        // Deleting a node fires its data and child watches.
        a.getData(n + "/c1", data, null);
        a.getChildren(n + "/c1", kids);
        b.delete(n + "/c1", -1);
        data.expect(EventType.NodeDeleted, n + "/c1", EVENT_MS);
        kids.expect(EventType.NodeDeleted, n + "/c1", EVENT_MS);
    }

    /** addWatch PERSISTENT: fires on every change of the node and its children list, survives deletes. */
    static void persistentWatch(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        String n = ctx.path("n");
        Events w = new Events();
        a.addWatch(n, w, AddWatchMode.PERSISTENT);
        b.create(n, bytes("0"), OPEN, CreateMode.PERSISTENT);
        w.expect(EventType.NodeCreated, n, EVENT_MS);
        b.setData(n, bytes("1"), -1);
        w.expect(EventType.NodeDataChanged, n, EVENT_MS);
        b.setData(n, bytes("2"), -1);
        w.expect(EventType.NodeDataChanged, n, EVENT_MS);
        b.create(n + "/kid", null, OPEN, CreateMode.PERSISTENT);
        w.expect(EventType.NodeChildrenChanged, n, EVENT_MS);
        b.setData(n + "/kid", bytes("k"), -1);
        w.expectNone(QUIET_MS, "a child's data change (not recursive)");
        b.delete(n + "/kid", -1);
        w.expect(EventType.NodeChildrenChanged, n, EVENT_MS);
        b.delete(n, -1);
        w.expect(EventType.NodeDeleted, n, EVENT_MS);
        b.create(n, null, OPEN, CreateMode.PERSISTENT);
        w.expect(EventType.NodeCreated, n, EVENT_MS);
        w.expectNone(QUIET_MS, "extra events");
    }

    /** addWatch PERSISTENT_RECURSIVE: created/changed/deleted events for the whole subtree, no child events. */
    static void persistentRecursiveWatch(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        String s = ctx.path("sub");
        b.create(s, null, OPEN, CreateMode.PERSISTENT);
        b.create(ctx.path("sibling"), null, OPEN, CreateMode.PERSISTENT);
        Events w = new Events();
        a.addWatch(s, w, AddWatchMode.PERSISTENT_RECURSIVE);
        b.create(s + "/a", null, OPEN, CreateMode.PERSISTENT);
        w.expect(EventType.NodeCreated, s + "/a", EVENT_MS);
        b.create(s + "/a/b", null, OPEN, CreateMode.PERSISTENT);
        w.expect(EventType.NodeCreated, s + "/a/b", EVENT_MS);
        b.setData(s + "/a/b", bytes("x"), -1);
        w.expect(EventType.NodeDataChanged, s + "/a/b", EVENT_MS);
        b.setData(s + "/a/b", bytes("y"), -1);
        w.expect(EventType.NodeDataChanged, s + "/a/b", EVENT_MS);
        b.delete(s + "/a/b", -1);
        w.expect(EventType.NodeDeleted, s + "/a/b", EVENT_MS);
        b.setData(s, bytes("top"), -1);
        w.expect(EventType.NodeDataChanged, s, EVENT_MS);
        b.create(ctx.path("sibling/x"), null, OPEN, CreateMode.PERSISTENT);
        b.create(ctx.path("subway"), null, OPEN, CreateMode.PERSISTENT); // shares the prefix, not the subtree
        w.expectNone(QUIET_MS, "changes outside the subtree");
    }

    /** removeWatches/removeAllWatches: the watcher is told, fires no more; removing nothing is NOWATCHER. */
    static void removeWatches(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        String n = ctx.path("n");
        b.create(n, null, OPEN, CreateMode.PERSISTENT);
        Events data = new Events();
        a.getData(n, data, null);
        a.removeWatches(n, data, Watcher.WatcherType.Data, false);
        data.expect(EventType.DataWatchRemoved, n, EVENT_MS);
        b.setData(n, bytes("1"), -1);
        data.expectNone(QUIET_MS, "a removed data watch");
        fails(KeeperException.Code.NOWATCHER, "removing a watch that is not there",
            () -> a.removeWatches(n, data, Watcher.WatcherType.Data, false));
        Events p = new Events();
        a.addWatch(n, p, AddWatchMode.PERSISTENT);
        a.removeAllWatches(n, Watcher.WatcherType.Any, false);
        p.expect(EventType.PersistentWatchRemoved, n, EVENT_MS);
        b.setData(n, bytes("2"), -1);
        p.expectNone(QUIET_MS, "a removed persistent watch");
    }

    /** getEphemerals (all / by path prefix) and getAllChildrenNumber (all descendants). */
    static void getEphemeralsAndAllChildrenNumber(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper other = ctx.client();
        a.create(ctx.path("d"), null, OPEN, CreateMode.PERSISTENT);
        a.create(ctx.path("d/e1"), null, OPEN, CreateMode.EPHEMERAL);
        String e2 = a.create(ctx.path("d/e2-"), null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        a.create(ctx.path("e3"), null, OPEN, CreateMode.EPHEMERAL);
        a.create(ctx.path("d/p"), null, OPEN, CreateMode.PERSISTENT);
        a.create(ctx.path("d/p/q"), null, OPEN, CreateMode.PERSISTENT);
        other.create(ctx.path("d/theirs"), null, OPEN, CreateMode.EPHEMERAL);
        Set<String> all = new HashSet<>(a.getEphemerals());
        eq(Set.of(ctx.path("d/e1"), e2, ctx.path("e3")), all, "getEphemerals()");
        eq(Set.of(ctx.path("d/e1"), e2), new HashSet<>(a.getEphemerals(ctx.path("d"))), "getEphemerals(prefix)");
        eq(Set.of(ctx.path("d/e1"), e2, ctx.path("e3")), new HashSet<>(a.getEphemerals(ctx.root)), "getEphemerals(root)");
        eq(Set.of(ctx.path("d/e1"), e2), new HashSet<>(a.getEphemerals(ctx.path("d/e"))), "getEphemerals matches a string prefix");
        eq(Set.of(ctx.path("d/theirs")), new HashSet<>(other.getEphemerals(ctx.root)), "another session's ephemerals");
        eq(5, a.getAllChildrenNumber(ctx.path("d")), "getAllChildrenNumber(d)");
        eq(7, a.getAllChildrenNumber(ctx.root), "getAllChildrenNumber(root)");
        eq(0, a.getAllChildrenNumber(ctx.path("d/p/q")), "getAllChildrenNumber(leaf)");
    }

    /** whoAmI: the client's identities (ip, then digest after addAuthInfo). */
    static void whoAmI(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        List<ClientInfo> ids = a.whoAmI();
        check(ids.stream().anyMatch(c -> c.getAuthScheme().equals("ip")), "ip identity in " + ids);
        a.addAuthInfo("digest", bytes("alice:pw"));
        List<ClientInfo> after = a.whoAmI();
        check(after.stream().anyMatch(c -> c.getAuthScheme().equals("digest") && c.getUser().equals("alice")),
            "digest identity alice after addAuthInfo: " + after);
        eq(ids.size() + 1, after.size(), "identities after addAuthInfo");
    }

    /** Digest ACLs: NO_AUTH without credentials, access with them; 'auth' ACL; getACL redaction; DELETE on parent. */
    static void aclDigest(Ctx ctx) throws Exception {
        ZooKeeper creator = ctx.client();
        ZooKeeper other = ctx.client();
        String s = ctx.path("secret");
        creator.create(s, bytes("s"), acls(digestAcl(Perms.ALL, "alice", "pw")), CreateMode.PERSISTENT);
        fails(KeeperException.Code.NOAUTH, "creator reads without credentials", () -> creator.getData(s, false, null));
        fails(KeeperException.Code.NOAUTH, "getData", () -> other.getData(s, false, null));
        fails(KeeperException.Code.NOAUTH, "setData", () -> other.setData(s, bytes("x"), -1));
        fails(KeeperException.Code.NOAUTH, "exists", () -> other.exists(s, false));
        fails(KeeperException.Code.NOAUTH, "getChildren", () -> other.getChildren(s, false));
        fails(KeeperException.Code.NOAUTH, "getACL", () -> other.getACL(s, new Stat()));
        fails(KeeperException.Code.NOAUTH, "create under", () -> other.create(s + "/c", null, OPEN, CreateMode.PERSISTENT));
        other.addAuthInfo("digest", bytes("alice:wrong"));
        fails(KeeperException.Code.NOAUTH, "wrong password", () -> other.getData(s, false, null));
        other.addAuthInfo("digest", bytes("alice:pw"));
        eq("s", str(other.getData(s, false, null)), "data with credentials");
        Stat st = new Stat();
        List<ACL> acl = other.getACL(s, st);
        eq(List.of(digestAcl(Perms.ALL, "alice", "pw")), acl, "getACL with ADMIN");
        eq(0, st.getAversion(), "aversion");

        ZooKeeper anon = ctx.client();
        String mixed = ctx.path("mixed");
        creator.create(mixed, bytes("m"), acls(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE), digestAcl(Perms.ALL, "alice", "pw")), CreateMode.PERSISTENT);
        eq("m", str(anon.getData(mixed, false, null)), "world-readable");
        fails(KeeperException.Code.NOAUTH, "write to world-read-only", () -> anon.setData(mixed, bytes("x"), -1));
        eq(List.of(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE), new ACL(Perms.ALL, new Id("digest", "alice:x"))),
            anon.getACL(mixed, new Stat()), "getACL without ADMIN redacts digests");

        ZooKeeper bob = ctx.client();
        bob.addAuthInfo("digest", bytes("bob:pw2"));
        String mine = ctx.path("mine");
        bob.create(mine, null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        eq(List.of(digestAcl(Perms.ALL, "bob", "pw2")), bob.getACL(mine, new Stat()), "'auth' ACL expanded");
        fails(KeeperException.Code.NOAUTH, "another session on an 'auth' node", () -> anon.getData(mine, false, null));

        String open = ctx.path("open");
        creator.create(open, null, OPEN, CreateMode.PERSISTENT);
        creator.create(open + "/locked", null, acls(digestAcl(Perms.ALL, "alice", "pw")), CreateMode.PERSISTENT);
        anon.delete(open + "/locked", -1); // DELETE is checked on the parent
        String nodel = ctx.path("nodel");
        creator.create(nodel, null, acls(new ACL(Perms.ALL & ~Perms.DELETE, Ids.ANYONE_ID_UNSAFE)), CreateMode.PERSISTENT);
        anon.create(nodel + "/kid", null, OPEN, CreateMode.PERSISTENT);
        fails(KeeperException.Code.NOAUTH, "delete without DELETE on the parent", () -> anon.delete(nodel + "/kid", -1));

        Stat set = other.setACL(s, acls(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE), digestAcl(Perms.ALL, "alice", "pw")), 0);
        eq(1, set.getAversion(), "aversion after setACL");
        fails(KeeperException.Code.BADVERSION, "stale setACL", () -> other.setACL(s, OPEN, 0));
        eq("s", str(anon.getData(s, false, null)), "readable after setACL");
    }

    /** Closing a session deletes its ephemerals and fires the watches on them. */
    static void sessionCloseRemovesEphemerals(Ctx ctx) throws Exception {
        ZooKeeper a = connect(ctx.home, 10_000);
        ZooKeeper b = ctx.client();
        a.create(ctx.path("e"), null, OPEN, CreateMode.EPHEMERAL);
        String es = a.create(ctx.path("es-"), null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        Events w = new Events();
        check(b.exists(ctx.path("e"), w) != null, "ephemeral exists");
        a.close();
        w.expect(EventType.NodeDeleted, ctx.path("e"), EVENT_MS);
        eq(null, b.exists(es, false), "ephemeral-sequential after close");
        eq(List.of(), b.getChildren(ctx.root, false), "children after close");
    }

    /** sync() then read sees another client's completed write. */
    static void syncThenRead(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        ZooKeeper b = ctx.client();
        String n = ctx.path("n");
        a.create(n, bytes("0"), OPEN, CreateMode.PERSISTENT);
        for (int i = 1; i <= 5; i++) {
            a.setData(n, bytes(String.valueOf(i)), -1);
            b.sync(n);
            eq(String.valueOf(i), str(b.getData(n, false, null)), "read after sync");
        }
        CountDownLatch done = new CountDownLatch(1);
        int[] rc = {Integer.MIN_VALUE};
        b.sync(ctx.root, (code, path, c) -> {
            rc[0] = code;
            done.countDown();
        }, null);
        check(done.await(5, TimeUnit.SECONDS), "async sync callback");
        eq(0, rc[0], "async sync rc");
    }

    /** The /zookeeper system subtree exists (clients and tools expect /zookeeper/quota). */
    static void systemNodes(Ctx ctx) throws Exception {
        ZooKeeper a = ctx.client();
        check(a.getChildren("/", false).contains("zookeeper"), "/ lists zookeeper");
        check(a.getChildren("/zookeeper", false).contains("quota"), "/zookeeper lists quota");
    }

    // ----------------------------------------------------------------------------------------
    // Main

    public static void main(String[] args) throws Exception {
        String connect = null;
        Set<String> only = null;
        long containerWaitMs = 15_000;
        boolean list = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--only" -> only = new HashSet<>(Arrays.asList(args[++i].split(",")));
                case "--container-wait-ms" -> containerWaitMs = Long.parseLong(args[++i]);
                case "--list" -> list = true;
                default -> connect = args[i];
            }
        }
        if (list) {
            CHECKS.forEach(c -> System.out.println(c.name()));
            return;
        }
        if (connect == null) {
            System.err.println("usage: ZkInterop <connectString> [--only a,b] [--list] [--container-wait-ms N]");
            System.exit(2);
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        int slash = connect.indexOf('/');
        String chroot = slash < 0 ? "" : connect.substring(slash);
        String[] servers = (slash < 0 ? connect : connect.substring(0, slash)).split(",");
        int index = 0;
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        int failures = 0;
        for (Check c : CHECKS) {
            if (only != null && !only.contains(c.name())) {
                continue;
            }
            String root = "/interop-java-" + run + "-" + c.name();
            // Checks take turns on the servers of an ensemble.
            Ctx ctx = new Ctx(servers[index++ % servers.length] + chroot, root, containerWaitMs);
            long start = System.currentTimeMillis();
            String failure = null;
            Future<?> f = null;
            try {
                ctx.client().create(root, null, OPEN, CreateMode.PERSISTENT);
                f = pool.submit(() -> {
                    c.body().run(ctx);
                    return null;
                });
                f.get(30_000 + containerWaitMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                failure = describe(e.getCause());
            } catch (TimeoutException e) {
                f.cancel(true);
                failure = "timed out";
            } catch (Exception e) {
                failure = describe(e);
            } finally {
                ctx.closeAll();
            }
            long ms = System.currentTimeMillis() - start;
            if (failure == null) {
                System.out.println("PASS " + c.name() + " (" + ms + " ms)");
            } else {
                failures++;
                System.out.println("FAIL " + c.name() + ": " + failure.replace('\n', ' '));
            }
            System.out.flush();
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    static String describe(Throwable t) {
        if (t instanceof CheckFailed) {
            return t.getMessage();
        }
        t.printStackTrace(); // to stderr: unexpected exceptions deserve their stack
        StackTraceElement where = Arrays.stream(t.getStackTrace())
            .filter(e -> e.getClassName().startsWith(ZkInterop.class.getName()))
            .findFirst()
            .orElse(null);
        return t.getClass().getSimpleName() + ": " + t.getMessage()
            + (where == null ? "" : String.format(Locale.ROOT, " (at line %d)", where.getLineNumber()));
    }

    private ZkInterop() {}
}
