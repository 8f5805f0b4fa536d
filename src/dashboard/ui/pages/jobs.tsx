// Jobs: every driver that connected (its script), and the jobs submitted with `tsray job
// submit`, whose output can be read here.
import { useState } from "preact/hooks";
import { getJson, getList, usePoll } from "../api";
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { Table, type Column } from "../components/table";
import { duration, time } from "../format";
import type { JobRow, SubmittedJob } from "../types";

const driverColumns: Column<JobRow>[] = [
  { title: "Job", cell: (j) => <Id id={j.job_id} /> },
  { title: "Status", cell: (j) => <Badge state={j.state} /> },
  { title: "Entrypoint", cell: (j) => <code class="path">{j.entrypoint || "–"}</code>, className: "wide" },
  { title: "Started", cell: (j) => time(j.start_time) },
  { title: "Ended", cell: (j) => time(j.end_time) },
  { title: "Duration", cell: (j) => duration((j.end_time ?? Date.now()) - j.start_time), className: "num" },
];

export function JobsPage() {
  const drivers = usePoll((signal) => getList<JobRow>("jobs", { limit: 1000 }, signal), "jobs");
  const submitted = usePoll((signal) => getJson<SubmittedJob[]>("/api/jobs/", signal), "submitted");
  const [open, setOpen] = useState<string>();
  const submittedColumns: Column<SubmittedJob>[] = [
    { title: "Submission", cell: (j) => <code>{j.submission_id}</code> },
    { title: "Status", cell: (j) => <Badge state={j.status} /> },
    { title: "Entrypoint", cell: (j) => <code class="path">{j.entrypoint}</code>, className: "wide" },
    { title: "Started", cell: (j) => time(j.start_time) },
    { title: "Ended", cell: (j) => time(j.end_time) },
    { title: "Message", cell: (j) => j.message, className: "wide" },
    {
      title: "Logs",
      cell: (j) => (
        <button type="button" class="link" aria-pressed={open === j.submission_id} onClick={() => setOpen(open === j.submission_id ? undefined : j.submission_id)}>
          {open === j.submission_id ? "Hide logs" : "Logs"}
        </button>
      ),
    },
  ];
  const jobs = [...(drivers.data?.result ?? [])].sort((a, b) => b.start_time - a.start_time);
  const subs = [...(submitted.data ?? [])].sort((a, b) => b.start_time - a.start_time);
  return (
    <section>
      <h1>Jobs <span class="count">{drivers.data?.total ?? ""}</span></h1>
      <Table label="Jobs" columns={driverColumns} rows={drivers.data && jobs} rowKey={(j) => j.job_id} empty="No job has connected yet." />
      <h2>Submitted jobs</h2>
      <Table label="Submitted jobs" columns={submittedColumns} rows={submitted.data && subs} rowKey={(j) => j.submission_id}
        empty="None: tsray job submit --address URL -- COMMAND runs one here." />
      {open && <JobLogs id={open} />}
    </section>
  );
}

function JobLogs(props: { id: string }) {
  const logs = usePoll((signal) => getJson<{ logs: string }>(`/api/jobs/${encodeURIComponent(props.id)}/logs`, signal), props.id);
  return (
    <div class="panel">
      <h2>Logs of {props.id}</h2>
      <pre class="log">{logs.data?.logs || (logs.error ?? "No output yet.")}</pre>
    </div>
  );
}
