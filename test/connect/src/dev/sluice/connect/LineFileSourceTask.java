package dev.sluice.connect;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Reads complete lines after the committed position; a partial last line waits for its newline. */
public class LineFileSourceTask extends SourceTask {
  private String file;
  private String topic;
  private long position;

  @Override public String version() { return "1"; }

  @Override public void start(Map<String, String> props) {
    file = props.get("file");
    topic = props.get("topic");
    Map<String, Object> committed = context.offsetStorageReader().offset(Map.of("file", file));
    position = committed == null ? 0L : ((Number) committed.get("position")).longValue();
  }

  @Override public List<SourceRecord> poll() throws InterruptedException {
    List<SourceRecord> records = new ArrayList<>();
    try (RandomAccessFile in = new RandomAccessFile(file, "r")) {
      long length = in.length();
      if (length > position) {
        byte[] bytes = new byte[(int) Math.min(length - position, 1 << 20)];
        in.seek(position);
        in.readFully(bytes);
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
          if (bytes[i] != '\n') continue;
          String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
          long next = position + i + 1;
          records.add(new SourceRecord(Map.of("file", file), Map.of("position", next), topic, null, Schema.STRING_SCHEMA, line));
          start = i + 1;
        }
        position += start;
      }
    } catch (IOException e) {
      throw new ConnectException("reading " + file, e);
    }
    if (records.isEmpty()) {
      Thread.sleep(100);
      return null;
    }
    return records;
  }

  @Override public void stop() {}
}
