package sequent;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.BufferedOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * Record batches through the Java Kafka client, driven by lines on stdin (test/log/java-batches.ts
 * writes them). Bytes are written as "x" + hex, or "-" for null.
 *
 * <pre>
 *   BATCH name codec baseOffset producerId producerEpoch baseSequence transactional
 *   RECORD timestamp key value [headerKey=headerValue ...]
 *   END                    -> BATCH name hexOfTheBatch      (built by MemoryRecordsBuilder)
 *   DECODE name hex        -> RECORD name offset timestamp key value [hk=hv ...] ... then
 *                             DECODED name codec count      (read by MemoryRecords, CRC checked)
 *                             or ERROR name message
 * </pre>
 *
 * Batches are built as the producer builds them (RecordAccumulator / ProducerBatch):
 * MemoryRecords.builder with the codec, CREATE_TIME, then append(timestamp, key, value,
 * headers) per record, and setProducerState for idempotent or transactional producers.
 */
public final class KafkaBatches {
  private static final HexFormat HEX = HexFormat.of();

  private KafkaBatches() {}

  static byte[] bytes(String token) {
    if (token.equals("-")) return null;
    if (!token.startsWith("x")) throw new IllegalArgumentException("bytes token " + token);
    return HEX.parseHex(token.substring(1));
  }

  static String token(byte[] b) {
    return b == null ? "-" : "x" + HEX.formatHex(b);
  }

  static String token(ByteBuffer b) {
    if (b == null) return "-";
    byte[] copy = new byte[b.remaining()];
    b.duplicate().get(copy);
    return token(copy);
  }

  static Compression compression(String name) {
    switch (name) {
      case "none": return Compression.NONE;
      case "gzip": return Compression.gzip().build();
      case "snappy": return Compression.snappy().build();
      case "lz4": return Compression.lz4().build();
      case "zstd": return Compression.zstd().build();
      default: throw new IllegalArgumentException("codec " + name);
    }
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, StandardCharsets.UTF_8);
    MemoryRecordsBuilder builder = null;
    String batchName = null;
    String[] batchFields = null;
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isEmpty()) continue;
      String[] f = line.split(" ");
      switch (f[0]) {
        case "BATCH": {
          batchName = f[1];
          batchFields = f;
          builder = MemoryRecords.builder(ByteBuffer.allocate(16 * 1024), RecordBatch.CURRENT_MAGIC_VALUE, compression(f[2]), TimestampType.CREATE_TIME, Long.parseLong(f[3]));
          break;
        }
        case "RECORD": {
          List<Header> headers = new ArrayList<>();
          for (int i = 4; i < f.length; i++) {
            String[] kv = f[i].split("=", 2);
            headers.add(new RecordHeader(new String(bytes(kv[0]), StandardCharsets.UTF_8), bytes(kv[1])));
          }
          builder.append(Long.parseLong(f[1]), bytes(f[2]), bytes(f[3]), headers.toArray(new Header[0]));
          break;
        }
        case "END": {
          long producerId = Long.parseLong(batchFields[4]);
          if (producerId >= 0) {
            builder.setProducerState(producerId, Short.parseShort(batchFields[5]), Integer.parseInt(batchFields[6]), batchFields[7].equals("1"));
          }
          ByteBuffer built = builder.build().buffer();
          out.println("BATCH " + batchName + " " + token(built).substring(1));
          builder = null;
          break;
        }
        case "DECODE": {
          String name = f[1];
          try {
            MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(HEX.parseHex(f[2])));
            int count = 0;
            String codec = null;
            for (RecordBatch batch : records.batches()) {
              batch.ensureValid();
              codec = batch.compressionType().name;
              for (Record r : batch) {
                StringBuilder s = new StringBuilder("RECORD ").append(name).append(' ').append(r.offset()).append(' ').append(r.timestamp())
                    .append(' ').append(token(r.key())).append(' ').append(token(r.value()));
                for (Header h : r.headers()) s.append(' ').append(token(h.key().getBytes(StandardCharsets.UTF_8))).append('=').append(token(h.value()));
                out.println(s);
                count++;
              }
            }
            out.println("DECODED " + name + " " + codec + " " + count);
          } catch (RuntimeException e) {
            out.println("ERROR " + name + " " + String.valueOf(e).replace('\n', ' '));
          }
          break;
        }
        default:
          throw new IllegalArgumentException("line " + line);
      }
    }
    out.flush();
  }
}
