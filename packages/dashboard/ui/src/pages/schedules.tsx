import { useState } from 'preact/hooks';
import { api, type Schedule, seg } from '../api.js';
import { LoadError, NoticeBar, Section, useAction, useLoad } from '../components.js';
import { go } from '../nav.js';

function CronEditor({ schedule, onSaved }: { schedule: Schedule; onSaved: () => void }) {
  const [value, setValue] = useState(schedule.cron);
  const action = useAction();
  const id = `cron-${schedule.jobId}`;
  return (
    <form
      class="cron-form"
      aria-label={`Cron of ${schedule.flowName} ${schedule.triggerKey}`}
      onSubmit={async (e) => {
        e.preventDefault();
        if (
          await action.run(
            'Save cron',
            () => api.put(`/schedules/${seg(schedule.jobId)}/cron`, { cron: value.trim() }),
            'Cron saved.',
          )
        )
          onSaved();
      }}
    >
      <label for={id}>Cron expression</label>
      <input
        id={id}
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        spellcheck={false}
      />
      <button type="submit" disabled={action.busy}>
        Save
      </button>
      {schedule.cronOverride ? (
        <button
          type="button"
          disabled={action.busy}
          onClick={async () => {
            if (
              await action.run(
                'Restore cron',
                () => api.put(`/schedules/${seg(schedule.jobId)}/cron`, { cron: null }),
                'Cron restored.',
              )
            ) {
              setValue(schedule.manifestCron);
              onSaved();
            }
          }}
        >
          Restore {schedule.manifestCron}
        </button>
      ) : null}
      <NoticeBar notice={action.notice} />
    </form>
  );
}

export function SchedulesPage() {
  const list = useLoad(() => api.get<{ schedules: Schedule[] }>('/schedules'), []);
  const action = useAction();
  const act = async (label: string, fn: () => Promise<unknown>, ok: string) => {
    await action.run(label, fn, ok);
    list.reload();
  };
  return (
    <>
      <h1 tabIndex={-1}>Schedules</h1>
      <NoticeBar notice={action.notice} />
      <LoadError error={list.error} />
      <Section title="Cron triggers" id="schedules">
        {list.data && list.data.schedules.length === 0 ? <p>No flow has a cron trigger.</p> : null}
        {list.data && list.data.schedules.length > 0 ? (
          <table class="schedules">
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">Trigger</th>
                <th scope="col">State</th>
                <th scope="col">Schedule</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.schedules.map((s) => (
                <tr key={s.jobId} data-job={s.jobId}>
                  <th scope="row">{s.flowName}</th>
                  <td>{s.triggerKey}</td>
                  <td>
                    <span
                      class={`badge ${s.isPaused ? 'status-Skipped' : 'status-Running'}`}
                      data-state={s.isPaused ? 'paused' : 'active'}
                    >
                      {s.isPaused ? 'Paused' : 'Active'}
                    </span>
                  </td>
                  <td>
                    <CronEditor key={`${s.jobId}-${s.cron}`} schedule={s} onSaved={list.reload} />
                    <span class="muted">{s.timezone}</span>
                  </td>
                  <td>
                    <div class="actions">
                      {s.isPaused ? (
                        <button
                          type="button"
                          disabled={action.busy}
                          onClick={() =>
                            act(
                              'Resume',
                              () => api.post(`/schedules/${seg(s.jobId)}/resume`),
                              `${s.flowName} ${s.triggerKey} resumed.`,
                            )
                          }
                        >
                          Resume
                        </button>
                      ) : (
                        <button
                          type="button"
                          disabled={action.busy}
                          onClick={() =>
                            act(
                              'Pause',
                              () => api.post(`/schedules/${seg(s.jobId)}/pause`),
                              `${s.flowName} ${s.triggerKey} paused.`,
                            )
                          }
                        >
                          Pause
                        </button>
                      )}
                      <button
                        type="button"
                        disabled={action.busy}
                        onClick={async () => {
                          try {
                            const run = await api.post<{ runId: string }>(
                              `/schedules/${seg(s.jobId)}/trigger`,
                            );
                            go(`/runs/${run.runId}`);
                          } catch (error) {
                            action.setNotice({
                              kind: 'error',
                              text: `Trigger failed: ${(error as Error).message}`,
                            });
                          }
                        }}
                      >
                        Trigger now
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}
