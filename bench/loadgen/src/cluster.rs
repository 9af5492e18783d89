//! What the load generator needs to know about a cluster before it loads it: that the brokers
//! speak the versions we send, where each partition's leader is, and topics created or removed.
//! Works the same against one Sluice process or a multi-broker Kafka cluster.

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use crate::conn::{CONTROL_RECEIVER, Connection};
use crate::error::{Error, Result};
use crate::protocol::{self, ALL_APIS, Api, Metadata};

#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    pub configs: Vec<(String, String)>,
}

/// Where each partition of a topic lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicLayout {
    pub name: String,
    /// (partition, leader "host:port"), sorted by partition.
    pub partitions: Vec<(i32, String)>,
}

impl TopicLayout {
    /// Partitions grouped by leader address, in a stable order.
    pub fn by_leader(&self) -> Vec<(String, Vec<i32>)> {
        let mut groups: Vec<(String, Vec<i32>)> = Vec::new();
        for (p, addr) in &self.partitions {
            match groups.iter_mut().find(|(a, _)| a == addr) {
                Some((_, ps)) => ps.push(*p),
                None => groups.push((addr.clone(), vec![*p])),
            }
        }
        groups
    }
}

pub struct Cluster {
    client_id: String,
    bootstrap_addr: String,
    connections: HashMap<String, Connection>,
    brokers: HashMap<i32, String>,
    controller_id: i32,
}

fn check_api_versions(conn: &mut Connection) -> Result<()> {
    let body = conn.request(protocol::API_VERSIONS, protocol::api_versions_body)?;
    let (error, ranges) = protocol::decode_api_versions(&body).map_err(|source| Error::Wire {
        api: "ApiVersions",
        source,
    })?;
    if error != protocol::ERROR_NONE {
        return Err(Error::Kafka {
            api: "ApiVersions",
            detail: protocol::error_name(error).to_string(),
        });
    }
    let missing = protocol::unsupported(&ALL_APIS, &ranges);
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|a| format!("{} v{}", a.name, a.version))
            .collect();
        return Err(Error::Unsupported(list.join(", ")));
    }
    Ok(())
}

impl Cluster {
    /// Connects to the first bootstrap address that answers and checks its API versions.
    pub fn connect(bootstrap: &str, client_id: &str) -> Result<Self> {
        let mut last_err = Error::Usage("empty --bootstrap".into());
        for addr in bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match Connection::connect(addr, client_id, CONTROL_RECEIVER)
                .and_then(|mut c| check_api_versions(&mut c).map(|_| c))
            {
                Ok(conn) => {
                    let mut cluster = Self {
                        client_id: client_id.to_string(),
                        bootstrap_addr: addr.to_string(),
                        connections: HashMap::from([(addr.to_string(), conn)]),
                        brokers: HashMap::new(),
                        controller_id: -1,
                    };
                    cluster.metadata(Some(&[]))?;
                    return Ok(cluster);
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    /// Retries `connect` until it succeeds or `timeout` passes (waiting for a broker to start).
    pub fn wait_ready(
        bootstrap: &str,
        client_id: &str,
        timeout: Duration,
    ) -> Result<(Self, Duration)> {
        let started = Instant::now();
        loop {
            match Self::connect(bootstrap, client_id) {
                Ok(c) => return Ok((c, started.elapsed())),
                Err(e) if started.elapsed() >= timeout => return Err(e),
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn conn(&mut self, addr: &str) -> Result<&mut Connection> {
        if !self.connections.contains_key(addr) {
            let mut conn = Connection::connect(addr, &self.client_id, CONTROL_RECEIVER)?;
            check_api_versions(&mut conn)?;
            self.connections.insert(addr.to_string(), conn);
        }
        Ok(self.connections.get_mut(addr).expect("inserted above"))
    }

    fn request_to(
        &mut self,
        addr: &str,
        api: Api,
        body: impl FnOnce(&mut crate::wire::Encoder),
    ) -> Result<Vec<u8>> {
        self.conn(addr)?.request(api, body)
    }

    pub fn metadata(&mut self, topics: Option<&[&str]>) -> Result<Metadata> {
        let addr = self.bootstrap_addr.clone();
        let body = self.request_to(&addr, protocol::METADATA, |e| {
            protocol::metadata_body(e, topics, false)
        })?;
        let meta = protocol::decode_metadata(&body).map_err(|source| Error::Wire {
            api: "Metadata",
            source,
        })?;
        self.brokers = meta
            .brokers
            .iter()
            .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
            .collect();
        self.controller_id = meta.controller_id;
        Ok(meta)
    }

    fn broker_addr(&self, node_id: i32) -> Result<String> {
        self.brokers.get(&node_id).cloned().ok_or_else(|| {
            Error::Protocol(format!("metadata names no address for broker {node_id}"))
        })
    }

    /// The topic's layout if every partition has a leader; None if the topic is unknown.
    pub fn topic_layout(&mut self, topic: &str) -> Result<Option<TopicLayout>> {
        let meta = self.metadata(Some(&[topic]))?;
        let Some(t) = meta.topics.iter().find(|t| t.name == topic) else {
            return Ok(None);
        };
        if t.error_code == protocol::ERROR_UNKNOWN_TOPIC_OR_PARTITION {
            return Ok(None);
        }
        if t.error_code != protocol::ERROR_NONE {
            return Err(Error::Kafka {
                api: "Metadata",
                detail: format!("topic {topic}: {}", protocol::error_name(t.error_code)),
            });
        }
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            if p.error_code != protocol::ERROR_NONE || p.leader < 0 {
                return Err(Error::Kafka {
                    api: "Metadata",
                    detail: format!(
                        "{topic}-{} has no leader ({})",
                        p.index,
                        protocol::error_name(p.error_code)
                    ),
                });
            }
            partitions.push((p.index, self.broker_addr(p.leader)?));
        }
        Ok(Some(TopicLayout {
            name: topic.to_string(),
            partitions,
        }))
    }

    /// Creates the topic unless it exists, then waits until every partition has a leader.
    pub fn ensure_topic(&mut self, spec: &TopicSpec) -> Result<TopicLayout> {
        let deadline = Instant::now() + Duration::from_secs(30);
        if let Ok(Some(layout)) = self.topic_layout(&spec.name) {
            let layout = check_partition_count(layout, spec)?;
            self.wait_for_leaders(&layout, deadline)?;
            return Ok(layout);
        }
        // Any broker forwards CreateTopics to the controller (KRaft); older ones need the
        // controller itself, which Metadata named.
        let addr = self
            .broker_addr(self.controller_id)
            .unwrap_or_else(|_| self.bootstrap_addr.clone());
        let body = self.request_to(&addr, protocol::CREATE_TOPICS, |e| {
            protocol::create_topics_body(
                e,
                &spec.name,
                spec.partitions,
                spec.replication_factor,
                &spec.configs,
                30_000,
            )
        })?;
        for (name, code, message) in
            protocol::decode_create_topics(&body).map_err(|source| Error::Wire {
                api: "CreateTopics",
                source,
            })?
        {
            if code != protocol::ERROR_NONE && code != protocol::ERROR_TOPIC_ALREADY_EXISTS {
                return Err(Error::Kafka {
                    api: "CreateTopics",
                    detail: format!(
                        "{name}: {} {}",
                        protocol::error_name(code),
                        message.unwrap_or_default()
                    ),
                });
            }
        }
        loop {
            match self.topic_layout(&spec.name) {
                Ok(Some(layout)) if layout.partitions.len() as i32 >= spec.partitions => {
                    let layout = check_partition_count(layout, spec)?;
                    self.wait_for_leaders(&layout, deadline)?;
                    return Ok(layout);
                }
                Err(e) if Instant::now() >= deadline => return Err(e),
                _ if Instant::now() >= deadline => {
                    return Err(Error::Protocol(format!(
                        "topic {} did not get leaders for all partitions in 30 s",
                        spec.name
                    )));
                }
                _ => thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// ListOffsets (EARLIEST/LATEST or a timestamp) for every partition, asked of each leader.
    pub fn list_offsets(
        &mut self,
        layout: &TopicLayout,
        timestamp: i64,
    ) -> Result<HashMap<i32, i64>> {
        let mut out = HashMap::new();
        for (p, code, offset) in self.list_offsets_codes(layout, timestamp)? {
            if code != protocol::ERROR_NONE {
                return Err(Error::Kafka {
                    api: "ListOffsets",
                    detail: format!("{}-{p}: {}", layout.name, protocol::error_name(code)),
                });
            }
            out.insert(p, offset);
        }
        Ok(out)
    }

    fn list_offsets_codes(
        &mut self,
        layout: &TopicLayout,
        timestamp: i64,
    ) -> Result<Vec<(i32, i16, i64)>> {
        let mut out = Vec::new();
        for (addr, partitions) in layout.by_leader() {
            let body = self.request_to(&addr, protocol::LIST_OFFSETS, |e| {
                protocol::list_offsets_body(e, &layout.name, &partitions, timestamp)
            })?;
            out.extend(
                protocol::decode_list_offsets(&body).map_err(|source| Error::Wire {
                    api: "ListOffsets",
                    source,
                })?,
            );
        }
        Ok(out)
    }

    /// Waits until every partition's leader answers as leader. Metadata can name a leader before
    /// that broker has taken the role (Kafka with KRaft, just after CreateTopics); a produce sent
    /// then fails with NOT_LEADER_OR_FOLLOWER, which real clients retry and a benchmark should
    /// not count.
    fn wait_for_leaders(&mut self, layout: &TopicLayout, deadline: Instant) -> Result<()> {
        loop {
            let codes = self.list_offsets_codes(layout, protocol::LATEST_TIMESTAMP)?;
            let pending = codes
                .iter()
                .find(|(_, code, _)| *code != protocol::ERROR_NONE);
            match pending {
                None => return Ok(()),
                Some((p, code, _))
                    if !protocol::is_retriable(*code) || Instant::now() >= deadline =>
                {
                    return Err(Error::Kafka {
                        api: "ListOffsets",
                        detail: format!("{}-{p}: {}", layout.name, protocol::error_name(*code)),
                    });
                }
                Some(_) => thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Deletes topics; unknown topics are not an error (the goal is their absence).
    pub fn delete_topics(&mut self, names: &[&str]) -> Result<()> {
        let addr = self
            .broker_addr(self.controller_id)
            .unwrap_or_else(|_| self.bootstrap_addr.clone());
        let body = self.request_to(&addr, protocol::DELETE_TOPICS, |e| {
            protocol::delete_topics_body(e, names, 30_000)
        })?;
        for (name, code) in protocol::decode_delete_topics(&body).map_err(|source| Error::Wire {
            api: "DeleteTopics",
            source,
        })? {
            if code != protocol::ERROR_NONE && code != protocol::ERROR_UNKNOWN_TOPIC_OR_PARTITION {
                return Err(Error::Kafka {
                    api: "DeleteTopics",
                    detail: format!("{name}: {}", protocol::error_name(code)),
                });
            }
        }
        Ok(())
    }
}

fn check_partition_count(layout: TopicLayout, spec: &TopicSpec) -> Result<TopicLayout> {
    if (layout.partitions.len() as i32) < spec.partitions {
        return Err(Error::Usage(format!(
            "topic {} exists with {} partitions, {} requested",
            spec.name,
            layout.partitions.len(),
            spec.partitions
        )));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_group_by_leader_in_first_seen_order() {
        let layout = TopicLayout {
            name: "t".into(),
            partitions: vec![
                (0, "b:1".into()),
                (1, "a:1".into()),
                (2, "b:1".into()),
                (3, "a:1".into()),
            ],
        };
        assert_eq!(
            layout.by_leader(),
            vec![
                ("b:1".to_string(), vec![0, 2]),
                ("a:1".to_string(), vec![1, 3])
            ]
        );
    }
}
