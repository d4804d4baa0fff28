/**
 * The sync protocol's messages, each defined once and used by both ends: the edge (push, pull,
 * status) and the hub (receiving pushes, publishing fleet changes, fleet queries).
 *
 * <p>JSON messages are written with jackson-core's generator and read with {@link
 * dev.outpost.store.json.JsonTree}; the push body is the binary {@link PushBatch}. Field names, their
 * order and shapes are the protocol: edges and hubs of different versions talk to each other, and
 * an edge built before this package read some answers by position ({@code "from":F,"to":T} in an
 * acknowledgement, the first {@code "kind"} in a pulled change), so writers keep the order shown
 * in each type's documentation. A message that cannot be read is a {@link WireException} naming
 * what is wrong, never a partial message.
 */
package dev.outpost.sync.wire;
