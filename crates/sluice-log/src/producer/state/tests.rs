// Unit tests of the producer state rules (idempotence, epochs, transactions), beside state.rs.

use super::*;

/// A header-only batch (records are never read here) of `count` records.
fn batch(producer_id: i64, epoch: i16, first_sequence: i32, count: i32) -> Vec<u8> {
    let mut b = vec![0u8; batch::HEADER_SIZE];
    b[8..12].copy_from_slice(&((batch::HEADER_SIZE - 12) as i32).to_be_bytes());
    b[16] = 2;
    b[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    b[35..43].copy_from_slice(&1_000i64.to_be_bytes());
    b[43..51].copy_from_slice(&producer_id.to_be_bytes());
    b[51..53].copy_from_slice(&epoch.to_be_bytes());
    b[53..57].copy_from_slice(&first_sequence.to_be_bytes());
    b[57..61].copy_from_slice(&count.to_be_bytes());
    b
}

/// A transactional header-only batch.
fn txn_batch(producer_id: i64, epoch: i16, first_sequence: i32, count: i32) -> Vec<u8> {
    let mut b = batch(producer_id, epoch, first_sequence, count);
    b[21..23].copy_from_slice(&0x10i16.to_be_bytes());
    b
}

fn marker(producer_id: i64, epoch: i16, coordinator_epoch: i32, commit: bool) -> EndTxnMarker {
    EndTxnMarker {
        producer_id,
        producer_epoch: epoch,
        coordinator_epoch,
        kind: if commit {
            MarkerType::Commit
        } else {
            MarkerType::Abort
        },
    }
}

/// Checks and applies a marker like `Log::append_marker` at `offset`.
fn end(state: &mut ProducerState, m: EndTxnMarker, offset: i64) -> Result<MarkerCheck> {
    let check = state.check_marker(&m, offset, 2_000)?;
    state.apply_marker(check.clone());
    Ok(check)
}

/// Checks and applies like `Log::append` at `offset`; returns the check.
fn append(state: &mut ProducerState, records: &[u8], offset: i64) -> Result<AppendCheck> {
    let check = state.check_append(records, offset, None)?;
    if let AppendCheck::Accept(entries) = &check {
        state.apply(entries.clone());
    }
    Ok(check)
}

fn accepted(check: Result<AppendCheck>) {
    match check {
        Ok(AppendCheck::Accept(_)) => {}
        other => panic!("expected the append to be accepted, got {other:?}"),
    }
}

fn code(check: Result<AppendCheck>) -> &'static str {
    check.expect_err("expected an error").code()
}

#[test]
fn in_order_sequences_are_accepted_and_recorded() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 0, 0, 3), 0));
    accepted(append(&mut state, &batch(7, 0, 3, 2), 3));
    let entry = state.entry(7).unwrap();
    assert_eq!(entry.epoch(), 0);
    assert_eq!(entry.last_sequence(), 4);
    let last = *entry.batches().last().unwrap();
    assert_eq!(
        last,
        BatchMetadata {
            first_sequence: 3,
            last_sequence: 4,
            first_offset: 3,
            last_offset: 4,
            max_timestamp: 1_000
        }
    );
}

#[test]
fn a_retry_of_any_of_the_last_five_batches_is_a_duplicate_with_its_offsets() {
    let mut state = ProducerState::default();
    for i in 0..6 {
        accepted(append(
            &mut state,
            &batch(7, 0, i * 2, 2),
            100 + i as i64 * 2,
        ));
    }
    // Batches 1..=5 are retained; batch 0 (sequences 0-1) has been forgotten.
    for i in 1..6 {
        let check = state
            .check_append(&batch(7, 0, i * 2, 2), 999, None)
            .unwrap();
        let AppendCheck::Duplicate(original) = check else {
            panic!("batch {i} should be a duplicate");
        };
        assert_eq!(original.first_offset, 100 + i as i64 * 2);
        assert_eq!(original.last_offset, 101 + i as i64 * 2);
    }
    // The forgotten one is just out of order now.
    assert_eq!(
        code(state.check_append(&batch(7, 0, 0, 2), 999, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    // Same first sequence but another range is not a duplicate.
    assert_eq!(
        code(state.check_append(&batch(7, 0, 10, 1), 999, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
}

#[test]
fn a_gap_or_a_rewind_is_out_of_order() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 0, 0, 3), 0));
    assert_eq!(
        code(state.check_append(&batch(7, 0, 4, 1), 3, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    assert_eq!(
        code(state.check_append(&batch(7, 0, 1, 1), 3, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    // Nothing changed.
    assert_eq!(state.entry(7).unwrap().last_sequence(), 2);
}

#[test]
fn sequences_wrap_after_i32_max() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 0, i32::MAX - 1, 2), 0));
    assert_eq!(state.entry(7).unwrap().last_sequence(), i32::MAX);
    accepted(append(&mut state, &batch(7, 0, 0, 1), 2));
    // A batch spanning the wrap: last sequence 1.
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(8, 0, i32::MAX, 3), 0));
    assert_eq!(state.entry(8).unwrap().last_sequence(), 1);
    accepted(append(&mut state, &batch(8, 0, 2, 1), 3));
}

#[test]
fn an_older_epoch_is_fenced_and_a_newer_one_starts_at_zero() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 3, 0, 2), 0));
    assert_eq!(
        code(state.check_append(&batch(7, 2, 2, 1), 2, None)),
        "INVALID_PRODUCER_EPOCH"
    );
    assert_eq!(
        code(state.check_append(&batch(7, 4, 5, 1), 2, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    accepted(append(&mut state, &batch(7, 4, 0, 1), 2));
    let entry = state.entry(7).unwrap();
    assert_eq!(entry.epoch(), 4);
    assert_eq!(
        entry.batches().len(),
        1,
        "a new epoch forgets the old epoch's batches"
    );
    // The old epoch's batches are no duplicates any more: that epoch is fenced.
    assert_eq!(
        code(state.check_append(&batch(7, 3, 0, 2), 3, None)),
        "INVALID_PRODUCER_EPOCH"
    );
}

#[test]
fn a_producer_without_state_may_start_at_any_sequence() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(9, 2, 4_000, 5), 0));
    assert_eq!(state.entry(9).unwrap().last_sequence(), 4_004);
    accepted(append(&mut state, &batch(9, 2, 4_005, 1), 5));
    assert_eq!(
        code(state.check_append(&batch(9, 2, 4_000, 1), 6, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
}

#[test]
fn batches_of_one_append_are_checked_against_each_other() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 0, 0, 1), 0));
    let mut two = batch(7, 0, 1, 2);
    two.extend(batch(7, 0, 3, 1));
    accepted(append(&mut state, &two, 1));
    assert_eq!(state.entry(7).unwrap().last_sequence(), 3);
    let mut gap = batch(7, 0, 4, 1);
    gap.extend(batch(7, 0, 6, 1));
    let err = state.check_append(&gap, 4, None).unwrap_err();
    assert_eq!(err.code(), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    assert!(err.to_string().contains("#1"), "{err}");
    // The first batch of the rejected append left no trace.
    assert_eq!(state.entry(7).unwrap().last_sequence(), 3);
}

#[test]
fn a_duplicate_anywhere_in_the_append_answers_for_all_of_it() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &batch(7, 0, 0, 2), 10));
    let mut records = batch(8, 0, 0, 1);
    records.extend(batch(7, 0, 0, 2));
    let check = state.check_append(&records, 50, None).unwrap();
    assert!(
        matches!(check, AppendCheck::Duplicate(b) if b.first_offset == 10 && b.last_offset == 11)
    );
    assert!(state.entry(8).is_none());
}

#[test]
fn batches_without_a_producer_id_are_ignored_but_take_offsets() {
    let mut state = ProducerState::default();
    let mut records = batch(-1, -1, -1, 4);
    records.extend(batch(7, 0, 0, 1));
    accepted(append(&mut state, &records, 20));
    assert_eq!(state.len(), 1);
    assert_eq!(
        state
            .entry(7)
            .unwrap()
            .batches()
            .next()
            .unwrap()
            .first_offset,
        24
    );
}

#[test]
fn log_append_time_is_what_the_metadata_keeps() {
    let state = ProducerState::default();
    let AppendCheck::Accept(entries) = state.check_append(&batch(7, 0, 0, 1), 0, Some(55)).unwrap()
    else {
        panic!("accepted");
    };
    assert_eq!(entries[0].last_timestamp(), 55);
}

#[test]
fn replay_skips_checks_and_expiry_drops_idle_producers() {
    let mut state = ProducerState::default();
    let mut header = BatchHeader::parse(&batch(7, 5, 100, 2));
    header.base_offset = 40;
    state.replay(&header);
    header.producer_epoch = 1; // an older epoch from the log is taken as it is
    header.base_sequence = 0;
    state.replay(&header);
    assert_eq!(state.entry(7).unwrap().epoch(), 1);
    assert_eq!(state.remove_expired(1_000 + 99, 100), 0);
    assert_eq!(state.remove_expired(1_000 + 100, 100), 1);
    assert!(state.is_empty());
}

#[test]
fn a_transactional_batch_opens_a_transaction_that_a_marker_closes() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &txn_batch(7, 0, 0, 3), 10));
    accepted(append(&mut state, &txn_batch(7, 0, 3, 2), 13));
    assert_eq!(state.entry(7).unwrap().txn_first_offset(), Some(10));
    assert_eq!(state.first_unstable_offset(), Some(10));
    accepted(append(&mut state, &txn_batch(8, 0, 0, 1), 15));
    assert_eq!(state.first_unstable_offset(), Some(10));
    assert_eq!(
        state
            .ongoing_transactions()
            .iter()
            .map(|t| (t.producer_id, t.first_offset))
            .collect::<Vec<_>>(),
        vec![(7, 10), (8, 15)]
    );
    let check = end(&mut state, marker(7, 0, 0, false), 16).unwrap();
    assert_eq!(
        check.completed,
        Some(CompletedTxn {
            producer_id: 7,
            first_offset: 10,
            last_offset: 16,
            aborted: true
        })
    );
    assert_eq!(
        check.last_stable_offset, 15,
        "producer 8's transaction is still open"
    );
    assert_eq!(state.first_unstable_offset(), Some(15));
    let check = end(&mut state, marker(8, 0, 0, true), 17).unwrap();
    assert!(!check.completed.unwrap().aborted);
    assert_eq!(check.last_stable_offset, 18);
    assert_eq!(state.first_unstable_offset(), None);
    assert!(state.ongoing_transactions().is_empty());
    // The same epoch continues its sequence after a marker (TV1); a new transaction opens.
    accepted(append(&mut state, &txn_batch(7, 0, 5, 1), 18));
    assert_eq!(state.first_unstable_offset(), Some(18));
}

#[test]
fn a_plain_batch_inside_an_open_transaction_is_invalid_txn_state() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &txn_batch(7, 0, 0, 1), 0));
    let err = state.check_append(&batch(7, 0, 1, 1), 1, None).unwrap_err();
    assert_eq!(err.code(), "INVALID_TXN_STATE");
    // Within one append too.
    let mut state = ProducerState::default();
    let mut both = txn_batch(9, 0, 0, 1);
    both.extend(batch(9, 0, 1, 1));
    assert_eq!(
        code(state.check_append(&both, 0, None)),
        "INVALID_TXN_STATE"
    );
    assert!(append(&mut state, &batch(9, 0, 0, 1), 0).is_ok());
}

#[test]
fn markers_are_fenced_by_producer_and_coordinator_epochs() {
    let mut state = ProducerState::default();
    accepted(append(&mut state, &txn_batch(7, 3, 0, 1), 0));
    let err = state
        .check_marker(&marker(7, 2, 0, true), 1, 0)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_PRODUCER_EPOCH");
    end(&mut state, marker(7, 3, 5, true), 1).unwrap();
    assert_eq!(state.entry(7).unwrap().coordinator_epoch(), 5);
    let err = state
        .check_marker(&marker(7, 3, 4, true), 2, 0)
        .unwrap_err();
    assert_eq!(err.code(), "TRANSACTION_COORDINATOR_FENCED");
    // A marker with a newer epoch (TV2) forgets the batches: the sequence restarts at 0.
    end(&mut state, marker(7, 4, 5, false), 2).unwrap();
    let entry = state.entry(7).unwrap();
    assert_eq!(entry.epoch(), 4);
    assert_eq!(entry.batches().len(), 0);
    assert_eq!(entry.last_sequence(), -1);
    assert_eq!(
        code(state.check_append(&txn_batch(7, 4, 1, 1), 3, None)),
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    accepted(append(&mut state, &txn_batch(7, 4, 0, 1), 3));
    // Data from the epoch the marker fenced is refused.
    assert_eq!(
        code(state.check_append(&txn_batch(7, 3, 1, 1), 4, None)),
        "INVALID_PRODUCER_EPOCH"
    );
}

#[test]
fn a_marker_without_an_open_transaction_completes_nothing() {
    let mut state = ProducerState::default();
    let check = end(&mut state, marker(5, 1, 0, false), 0).unwrap();
    assert_eq!(check.completed, None);
    assert_eq!(state.entry(5).unwrap().epoch(), 1);
    assert_eq!(state.first_unstable_offset(), None);
}

#[test]
fn replay_rebuilds_open_transactions_and_producers_in_one_never_expire() {
    let mut state = ProducerState::default();
    let mut header = BatchHeader::parse(&txn_batch(7, 0, 0, 2));
    header.base_offset = 40;
    state.replay(&header);
    assert_eq!(state.first_unstable_offset(), Some(40));
    assert_eq!(
        state.remove_expired(i64::MAX, 1),
        0,
        "an open transaction pins it"
    );
    let (completed, lso) = state.replay_marker(&marker(7, 0, 0, false), 42, 5_000);
    assert_eq!(completed.unwrap().first_offset, 40);
    assert_eq!(lso, 43);
    assert_eq!(state.entry(7).unwrap().last_timestamp(), 5_000);
    assert_eq!(state.remove_expired(5_000 + 100, 100), 1);
}
