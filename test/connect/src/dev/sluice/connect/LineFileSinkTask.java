package dev.sluice.connect;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

public class LineFileSinkTask extends SinkTask {
  private FileOutputStream out;

  @Override public String version() { return "1"; }

  @Override public void start(Map<String, String> props) {
    try {
      out = new FileOutputStream(props.get("file"), true);
    } catch (IOException e) {
      throw new ConnectException("opening " + props.get("file"), e);
    }
  }

  @Override public void put(Collection<SinkRecord> records) {
    try {
      for (SinkRecord r : records) out.write((r.value() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConnectException("writing", e);
    }
  }

  @Override public void flush(Map<TopicPartition, OffsetAndMetadata> offsets) {
    try {
      out.flush();
      out.getFD().sync();
    } catch (IOException e) {
      throw new ConnectException("flushing", e);
    }
  }

  @Override public void stop() {
    try {
      if (out != null) out.close();
    } catch (IOException e) {
      throw new ConnectException("closing", e);
    }
  }
}
