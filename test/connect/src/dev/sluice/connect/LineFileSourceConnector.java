// A line-per-record file source for the Connect test (test/connect.test.ts): Kafka's
// FileStreamSourceConnector (connect-file) is not on the Maven registry these machines reach, so
// this is the same contract written for the test: each line of `file` becomes a record of
// `topic`, and the committed source offset is the byte position after the line.
package dev.sluice.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

public class LineFileSourceConnector extends SourceConnector {
  private Map<String, String> props;

  @Override public void start(Map<String, String> props) { this.props = props; }
  @Override public Class<? extends Task> taskClass() { return LineFileSourceTask.class; }
  @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
  @Override public void stop() {}
  @Override public String version() { return "1"; }

  @Override public ConfigDef config() {
    return new ConfigDef()
        .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "The file to read lines from.")
        .define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "The topic to write them to.");
  }
}
