/* Server-side apply and field management (metadata.managedFields), as Kubernetes'
 * apiserver does them with sigs.k8s.io/structured-merge-diff.
 *
 * Every write records who set which field. metadata.managedFields is a list of
 * entries, one per (manager, operation):
 *
 *   {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
 *    "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1",
 *    "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:data": {"f:key": {}}}}
 *
 * fieldsV1 is the set of owned fields as nested objects: "f:<field>" for a field,
 * "k:{\"name\":\"c\"}" for an item of an associative list (its key fields as compact
 * JSON, keys sorted), "v:<json>" for a member of a set list, and ".": {} when the node
 * itself is owned as well as some of its children (a leaf is just {}).
 *
 * The shape of each kind (which lists merge by which keys, which are sets, which maps
 * are granular or atomic) comes from the strategic-merge table of codec.h
 * (tri_strategic_merge_key) plus the list-map keys server-side apply adds (ports by
 * containerPort+protocol, ...). Unknown kinds are treated as Kubernetes treats a
 * custom resource without a schema: maps merge field by field, lists are atomic.
 *
 * Both functions are pure (no I/O, no store); the only clock read is the entry's
 * `time` (tri_rfc3339_now). They never own nor change the server's metadata: uid,
 * resourceVersion, creationTimestamp, generation, managedFields, deletionTimestamp,
 * deletionGracePeriodSeconds, selfLink; nor apiVersion, kind, metadata.name and
 * metadata.namespace (those are never part of a field set).
 */
#ifndef TRIARCH_APPLY_H
#define TRIARCH_APPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "triarch/api.h"

/* Kubernetes keeps at most this many Update entries; older ones are merged into an
 * entry named TRI_APPLY_ANCIENT_MANAGER (apiserver's DefaultMaxUpdateManagers). */
#define TRI_APPLY_MAX_UPDATE_MANAGERS 10
#define TRI_APPLY_ANCIENT_MANAGER "ancient-changes"

/* Manager recorded for a write without fieldManager (Kubernetes derives it from the
 * User-Agent; the caller may pass that prefix instead of NULL). */
#define TRI_APPLY_UNKNOWN_MANAGER "unknown"

/* Server-side apply of `applied` (the manager's whole intent for the object, the body
 * of an application/apply-patch+yaml PATCH) onto `live` (NULL when the object does not
 * exist yet: the apply creates it).
 *
 * Returns the new object (new reference), with metadata.managedFields updated, or
 * NULL with *st set:
 *   400 BadRequest  manager NULL/empty, applied not an object, applied carries
 *                   metadata.managedFields, an associative list item without its key
 *                   or a duplicated key in applied, nesting deeper than 100 levels;
 *   409 Conflict    applied sets a field to a value other than the one another
 *                   manager owns, and !force. Message in Kubernetes' words
 *                   ("Apply failed with 1 conflict: conflict with \"m\": .data.key"),
 *                   details.causes one {reason FieldManagerConflict, message
 *                   "conflict with \"m\"", field ".data.key"} per field; an Update
 *                   owner prints as "\"m\" using v1".
 *   500             out of memory.
 * On success *st is not touched.
 *
 * Semantics: maps merge recursively, associative lists merge item by item by their
 * keys, atomic lists and atomic maps (label selectors, ...) are replaced, a null in
 * applied removes the field (and owns it). The manager's Apply entry becomes exactly
 * the set of fields in applied. Fields the manager applied last time but not now are
 * removed from the object unless another entry owns them. With force, conflicting
 * fields move to this manager; any field whose value changed or that was removed
 * leaves the other entries. An apply that changes nothing returns a copy of live
 * (managedFields and time unchanged unless the manager's field set changed).
 *
 * Manager "kubectl" (kubectl apply --server-side) also follows kubectl's client-side
 * apply as the apiserver does: conflicts on fields that live's
 * kubectl.kubernetes.io/last-applied-configuration annotation sets to their current
 * value are not conflicts (ownership moves), and that annotation, when present,
 * becomes the applied config (compact JSON, sorted keys, trailing newline).
 *
 * The caller keeps what Kubernetes does around the merge: kind/apiVersion/name
 * checks against the URL, resourceVersion in applied as a precondition, resetting
 * `status` on the main resource, defaulting and validation of the result, 201 when
 * live was NULL. apiVersion and kind of the result are set from the arguments when
 * applied lacks them. */
json_t *tri_apply(const json_t *live, const json_t *applied, const char *manager, bool force,
                  const char *kind, const char *api_version, tri_status_t *st);

/* Field management after a non-apply write (create, update, merge/JSON/strategic
 * patch): obj is the object about to be stored, old the stored one (NULL on create).
 * Records an `operation: Update` entry for manager (NULL or "": "unknown") at
 * api_version owning the fields the write added or changed (every set field on
 * create), merged with the manager's earlier Update entry, and takes those fields and
 * the removed ones away from every other entry (an Update never conflicts). A write
 * that changes nothing leaves managedFields (and times) as they were.
 *
 * managedFields in obj: absent, null, [] or undecodable keep old's; a single empty
 * entry [{}] resets them (the write's own changes are then recorded alone); any other
 * valid list replaces them, as Kubernetes lets a client rewrite the field. Entries
 * beyond TRI_APPLY_MAX_UPDATE_MANAGERS Update entries are merged into
 * "ancient-changes". metadata.managedFields is removed when no entry is left. */
void tri_managed_fields_update(json_t *obj, const json_t *old, const char *manager,
                               const char *api_version);

#endif
