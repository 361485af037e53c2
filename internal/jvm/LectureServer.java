// The lecture's server, in Java: the thread-per-connection server of the
// lecture's remark that "in Java [we] would not see such a decline: shorter-
// running threads would be scheduled on idle CPUs". It answers the line
// protocol as primetime's servers do: a decimal n and "\n"; the nth prime by
// the same deliberately slow trial division (or, with --task sha256, the
// SHA-256 of a 64 KiB buffer chained n times); "ERR ..." for a bad request,
// and the connection goes on. Shapes:
//
//   threads          a platform thread per connection
//   threadpool N     connections served by a fixed pool of N threads
//   virtual          a virtual thread per connection (Java 21 and later)
//
// It listens on a loopback port, prints "primetime-jvm/1 HOST:PORT" once it
// listens, and exits when its stdin closes. Run it as a single source file:
//
//   java LectureServer.java threads
//
// With --trace FILE it logs each request's steps (received, computing,
// computed, sent) with the thread they ran on, and writes them to FILE as it
// exits, a line each: "NS STEP 0 TID N NAME", NS from System.nanoTime, as
// the lecture's server under CPython logs them.
//
// Or "java LectureServer.java --nth N" prints the nth prime and the seconds
// it took, the second time it computed it (the first lets the JIT compile
// the loop, as a server's first requests do).
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.*;

public class LectureServer {
    static final int MAX_N = 1_000_000;
    static final int MAX_LINE = 4096;
    static String task = "prime";
    static final java.util.List<String> trace = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    static boolean tracing = false;

    static void step(String kind, String n) {
        if (tracing) {
            Thread t = Thread.currentThread();
            trace.add(System.nanoTime() + " " + kind + " 0 " + t.getId() + " " + n + " " + t.getName());
        }
    }

    static long nthPrime(long n) {
        long found = 0, candidate = 1;
        while (true) {
            candidate++;
            boolean prime = true;
            for (long d = 2; d < candidate; d++) {
                if (candidate % d == 0) {
                    prime = false;
                    break;
                }
            }
            if (prime && ++found == n) {
                return candidate;
            }
        }
    }

    static final byte[] SHA256_BUFFER = new byte[64 * 1024];
    static {
        for (int i = 0; i < SHA256_BUFFER.length; i++) {
            SHA256_BUFFER[i] = (byte) (i % 251);
        }
    }

    static String chainedSHA256(long n) throws Exception {
        byte[] buf = SHA256_BUFFER.clone();
        byte[] sum = new byte[32];
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (long i = 0; i < n; i++) {
            System.arraycopy(sum, 0, buf, 0, 32);
            sum = md.digest(buf);
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : sum) {
            hex.append(String.format("%02x", b));
        }
        return hex.toString();
    }

    static String answer(String request) {
        String digits = request.strip();
        if (digits.isEmpty()) {
            return "ERR bad request: want a positive integer n, got an empty request";
        }
        if (!digits.chars().allMatch(c -> c >= '0' && c <= '9') || digits.length() > 9) {
            return "ERR bad request: want a positive integer n, got \"" + digits.substring(0, Math.min(40, digits.length())) + "\"";
        }
        long n = Long.parseLong(digits);
        if (n < 1 || n > MAX_N) {
            return "ERR bad request: want a positive integer n from 1 to " + MAX_N + ", got " + digits;
        }
        try {
            step("computing", digits);
            String a = task.equals("sha256") ? chainedSHA256(n) : Long.toString(nthPrime(n));
            step("computed", digits);
            return a;
        } catch (Exception e) {
            return "ERR " + e;
        }
    }

    static void handle(Socket sock) {
        try (sock) {
            BufferedReader in = new BufferedReader(new InputStreamReader(sock.getInputStream(), StandardCharsets.ISO_8859_1), 65536);
            OutputStream out = new BufferedOutputStream(sock.getOutputStream());
            String line;
            while ((line = in.readLine()) != null) {
                if (line.length() > MAX_LINE) {
                    out.write(("ERR request line too long: the limit is " + MAX_LINE + " bytes\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    return;
                }
                String n = line.strip().isEmpty() ? "0" : line.strip().split("\\s+")[0];
                step("received", n);
                out.write((answer(line) + "\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                step("sent", n);
            }
        } catch (IOException e) {
            // the client left
        }
    }

    public static void main(String[] args) throws Exception {
        String shape = null;
        String traceFile = null;
        int size = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--nth": {
                    long n = Long.parseLong(args[++i]);
                    nthPrime(n); // once for the JIT, as a server that has served a while
                    long start = System.nanoTime();
                    long p = nthPrime(n);
                    System.out.printf("%d %.6f%n", p, (System.nanoTime() - start) / 1e9);
                    return;
                }
                case "--task":
                    task = args[++i];
                    break;
                case "--trace":
                    traceFile = args[++i];
                    tracing = true;
                    break;
                default:
                    if (shape == null) {
                        shape = args[i];
                    } else {
                        size = Integer.parseInt(args[i]);
                    }
            }
        }
        ExecutorService pool;
        switch (shape == null ? "" : shape) {
            case "threads":
                pool = Executors.newCachedThreadPool();
                break;
            case "threadpool":
                pool = Executors.newFixedThreadPool(size);
                break;
            case "virtual":
                try {
                    pool = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
                } catch (NoSuchMethodException e) {
                    System.err.println("virtual threads need Java 21 or later; this is Java " + Runtime.version());
                    System.exit(2);
                    return;
                }
                break;
            default:
                System.err.println("usage: java LectureServer.java threads|threadpool N|virtual [--task prime|sha256]");
                System.exit(2);
                return;
        }
        ServerSocket listener = new ServerSocket(0, 4096, InetAddress.getByName("127.0.0.1"));
        System.out.println("primetime-jvm/1 127.0.0.1:" + listener.getLocalPort());
        System.out.flush();
        final String traceTo = traceFile;
        final ExecutorService handlers = pool;
        Thread watch = new Thread(() -> {
            try {
                System.in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // the parent is gone
            }
            if (traceTo != null) {
                // The handlers of connections already closed log their
                // last steps before the log is written.
                handlers.shutdown();
                try {
                    handlers.awaitTermination(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // write what there is
                }
                try (PrintWriter w = new PrintWriter(traceTo, StandardCharsets.UTF_8)) {
                    synchronized (trace) {
                        trace.forEach(w::println);
                    }
                } catch (IOException e) {
                    System.err.println("writing the trace: " + e);
                }
            }
            System.exit(0);
        });
        watch.setDaemon(true);
        watch.start();
        while (true) {
            Socket sock = listener.accept();
            sock.setTcpNoDelay(true);
            pool.execute(() -> handle(sock));
        }
    }
}
