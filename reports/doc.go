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
// (10 min) while one background load replaces them; Invalidate drops them (the server
// calls it after every change to users or units, so moves and deactivations show at
// once), and every status tells the time of its data (AsOf). BenchmarkTargetStatusProvince measures a
// province of 40,000 staff in 3,000 units both ways (figures in docs/BENCHMARKS.md).
//
// Reads of other domains' data go through small interfaces (Directory, Learning, Quizzes,
// Attendance). Two read another package's collection directly, read-only and projected,
// because the owner offers no bulk read yet: AccountsDirectory.ListActiveStaff (users)
// and EnrolmentReader (enrolments).
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
