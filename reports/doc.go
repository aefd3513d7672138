// Package reports is what personnel officers (ban tổ chức) are judged by: training
// targets rolled up over the unit tree, yearly training plans compared with what
// happened, dashboard data and SVG charts, spreadsheet exports, and certificates (giấy
// chứng nhận) with public verification.
//
// # Targets
//
// A target belongs to a unit and covers it and every unit below it. It names a course and
// what counts as done (Metric: completed the course in any of its classes; passed a quiz,
// or every required quiz; attended at least MinMinutes of the course's live sessions), who
// is counted (everyone, or only some positions, compared ignoring case and diacritics), a
// percent and a due date (the end of that day in Vietnam).
//
// Who is counted: every active user whose unit, now, is the target's unit or below it.
// A user who moves is counted in their new unit, with whatever they completed before the
// move; a deactivated user is not counted anywhere (and their completion neither). Done is
// decided per person from the metric's data, whichever class they took.
//
// Pace (OnPace): a unit has met its target when done/staff ≥ the target percent; past the
// due date it is overdue otherwise; before it, the percent done is projected to the due
// date at the pace since the target was created — percent × (due − created) /
// max(now − created, 1 day) — and the unit is on track when that reaches the target
// percent. A unit with nobody counted is "no_staff" and on track.
//
// # Visibility
//
// Only officers use reports: an admin sees everything; a unit_admin sees the units they
// manage (accounts.Manages) and, of a target set above them, only their own part (the
// status is rooted at their unit). Exports follow the same rule: a unit_admin's class
// export lists only learners of units they manage; a class's trainers export all of it.
// Anything outside the caller's scope is "not found"; callers who are not officers are
// "forbidden". Certificates are seen by their learner, admins and unit_admins of the
// learner's unit; their public verification (Verify) reveals only number, name, course,
// issue time and revocation.
//
// # Speed
//
// Figures are computed in Go over indexed finds (no aggregation beyond what FerretDB
// supports): the directory (units and active users, read with a projection) and, per
// target metric, who is done (one read of the course's enrolments, quiz results or
// attendance) are each read once and rolled up in memory by unit path. On embedded
// FerretDB reading 40,000 users and 30,000 enrolments takes many seconds, so both are kept
// as snapshots: fresh for Config.CacheTTL (30 s), then served up to Config.MaxStale
// (10 min) while one background load replaces them. Warm loads them at start-up (the
// server runs it in the background; a request meanwhile waits for that same load), and
// every status tells the time of its data (AsOf). BenchmarkTargetStatusProvince measures a
// province of 40,000 staff in 3,000 units (figures in docs/BENCHMARKS.md).
//
// Changes to the directory are applied, not reloaded: the server calls UserChanged after a
// user is created, moved, renamed, given a position, deactivated or reactivated, and
// UnitChanged after a unit is created, renamed or moved (its subtree moves with it). Each
// reads that one document by id and applies it to a copy of the directory snapshot, so the
// next roll-up shows it and nobody waits for a reload. Per-metric data is keyed by user,
// not by unit, so a directory change never needs it reloaded; enrolments, progress, quiz
// results and attendance follow CacheTTL.
//
// Bulk changes (a CSV import), and a user created through the admin page (which answers
// with a redirect, so the server does not see the new id), call Invalidate, which drops
// nothing: it marks the snapshots
// stale and reloads them in the background. The rule that keeps figures right: a snapshot
// is always one consistent read (every person counted once, in one unit) plus every
// change applied since, and a load that was running while a change was applied replays
// that change before it is stored, so a reload never brings back a state older than a
// change already shown. Until the reload after an import lands (seconds to a minute at
// 40,000 staff), the people the import touched are shown as they were before it, and AsOf
// is the time of that older read; a snapshot older than MaxStale is never served.
//
// Reads of other domains' data go through small interfaces (Directory, Learning, Quizzes,
// Attendance). Two read another package's collection directly, read-only and projected,
// because the owner offers no bulk or projected read yet: AccountsDirectory.ListActiveStaff
// and FindStaff (users) and EnrolmentReader (enrolments).
//
// Certificates are issued by IssueCertificate, exactly once per learner and class; it is
// meant to be called when courses records a completion, and ListMyCertificates and
// IssueClassCertificates also issue any that are missing.
//
// # Collections
//
// targets (index unit_id), training_plans (unique unit_id+year), certificates (unique
// class_id+user_id, unique sparse number, user_id, unit_id), certificate_counters (one
// document per year, "HT-2026", with seq).
package reports
