// A line-per-record file sink for the Connect test (test/connect.test.ts), standing in for Kafka's
// FileStreamSinkConnector (connect-file is not on the Maven registry these machines reach): each
// record's value is appended to `file` as a line, flushed to disk before offsets are committed.
package dev.sluice.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

public class LineFileSinkConnector extends SinkConnector {
  private Map<String, String> props;

  @Override public void start(Map<String, String> props) { this.props = props; }
  @Override public Class<? extends Task> taskClass() { return LineFileSinkTask.class; }
  @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
  @Override public void stop() {}
  @Override public String version() { return "1"; }

  @Override public ConfigDef config() {
    return new ConfigDef().define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "The file to append lines to.");
  }
}
