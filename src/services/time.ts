/** `creation_time.astimezone().strftime("%Y-%m-%d %H:%M:%S")`, as `bentoml list` prints it. */
export function formatLocalTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}
