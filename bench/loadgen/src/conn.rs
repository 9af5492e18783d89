//! One blocking TCP connection to a broker: framed requests out, framed responses in.
//! A `Connection` belongs to one thread; the producer splits it into a writer half and a
//! reader half (`into_parts`) so responses are read while requests are being written.

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::error::{Error, IoContext, Result};
use crate::protocol::{Api, frame_request};
use crate::receiver::{FrameReader, ReceiverConfig, Source};
use crate::tls::{TlsReader, TlsWriter};
use crate::wire::Encoder;

/// How long a blocked read may wait before the run is declared stuck.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Control traffic (metadata, topic admin, produce acks) is small: 64 KiB reads, no mark.
pub const CONTROL_RECEIVER: ReceiverConfig = ReceiverConfig {
    read_bytes: 64 * 1024,
    rcvlowat: 0,
};

/// The reading half of a connection: the socket itself, or plaintext out of a TLS session.
pub enum ReadHalf {
    Plain(TcpStream),
    Tls(TlsReader),
}

impl Source for ReadHalf {
    fn read(&mut self, buf: &mut [u8], marked: bool) -> io::Result<usize> {
        match self {
            Self::Plain(s) => Source::read(s, buf, marked),
            Self::Tls(t) => t.read(buf, marked),
        }
    }

    fn set_rcvlowat(&mut self, bytes: usize) -> io::Result<()> {
        match self {
            Self::Plain(s) => Source::set_rcvlowat(s, bytes),
            Self::Tls(t) => t.set_rcvlowat(bytes),
        }
    }
}

/// The writing half of a connection.
pub enum WriteHalf {
    Plain(TcpStream),
    Tls(TlsWriter),
}

impl WriteHalf {
    /// The socket underneath (to shut it down and wake a blocked reader).
    pub fn socket(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(t) => t.socket(),
        }
    }
}

impl Write for WriteHalf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(data),
            Self::Tls(t) => t.write(data),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(data),
            Self::Tls(t) => t.write_all(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Connection {
    pub addr: String,
    writer: WriteHalf,
    reader: FrameReader<ReadHalf>,
    client_id: String,
    next_correlation: i32,
}

/// Reads a response's size and correlation id: (correlation id, body length that follows).
pub fn read_response_header(
    reader: &mut FrameReader<ReadHalf>,
    api: Api,
    addr: &str,
) -> Result<(i32, usize)> {
    let size = reader
        .begin_frame()
        .context(|| format!("{} response from {addr}", api.name))?;
    if size < 4 {
        return Err(Error::Protocol(format!(
            "{} response of {size} bytes from {addr}",
            api.name
        )));
    }
    let correlation_id = reader
        .i32()
        .context(|| format!("{} response from {addr}", api.name))?;
    Ok((correlation_id, size - 4))
}

pub fn connect_stream(addr: &str) -> Result<TcpStream> {
    let stream = TcpStream::connect(addr).context(|| format!("connect to {addr}"))?;
    stream
        .set_nodelay(true)
        .context(|| format!("TCP_NODELAY on {addr}"))?;
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .context(|| format!("SO_RCVTIMEO on {addr}"))?;
    Ok(stream)
}

impl Connection {
    pub fn connect(addr: &str, client_id: &str, receiver: ReceiverConfig) -> Result<Self> {
        let mut stream = connect_stream(addr)?;
        let writer = stream
            .try_clone()
            .context(|| format!("dup socket of {addr}"))?;
        let (writer, reader) = match crate::tls::transport() {
            None => (WriteHalf::Plain(writer), ReadHalf::Plain(stream)),
            Some(tls) => {
                let session = tls.handshake(&mut stream, addr)?;
                (
                    WriteHalf::Tls(TlsWriter::new(writer, session.clone())),
                    ReadHalf::Tls(TlsReader::new(stream, session, receiver.read_bytes)),
                )
            }
        };
        Ok(Self {
            addr: addr.to_string(),
            writer,
            reader: FrameReader::new(reader, receiver),
            client_id: client_id.to_string(),
            next_correlation: 1,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn next_correlation(&mut self) -> i32 {
        let c = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1).max(1);
        c
    }

    pub fn send_frame(&mut self, frame: &[u8]) -> Result<()> {
        let addr = &self.addr;
        self.writer
            .write_all(frame)
            .context(|| format!("send to {addr}"))
    }

    /// Reads a response's size and correlation id; returns the body length that follows.
    pub fn begin_response(&mut self, api: Api, correlation_id: i32) -> Result<usize> {
        let (got, len) = read_response_header(&mut self.reader, api, &self.addr)?;
        if got != correlation_id {
            return Err(Error::Protocol(format!(
                "{} response from {} has correlation id {got}, expected {correlation_id}",
                api.name, self.addr
            )));
        }
        Ok(len)
    }

    pub fn reader(&mut self) -> &mut FrameReader<ReadHalf> {
        &mut self.reader
    }

    /// Sends one request and returns the response body (after the correlation id).
    pub fn request(&mut self, api: Api, body: impl FnOnce(&mut Encoder)) -> Result<Vec<u8>> {
        let correlation_id = self.next_correlation();
        let frame = frame_request(api, correlation_id, &self.client_id, body);
        self.send_frame(&frame)?;
        let len = self.begin_response(api, correlation_id)?;
        let addr = &self.addr;
        let body = self
            .reader
            .read_vec(len)
            .context(|| format!("{} response from {addr}", api.name))?;
        self.reader
            .end_frame()
            .context(|| format!("{} response from {addr}", api.name))?;
        Ok(body)
    }

    /// Splits into a writing socket and a reading half for pipelined use on two threads.
    pub fn into_parts(self) -> (WriteHalf, FrameReader<ReadHalf>) {
        (self.writer, self.reader)
    }
}
