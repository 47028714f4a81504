import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';

/** Certificates issued per day (loaded lazily: recharts is only in this chunk). */
export default function IssuedChart({ data }: { data: { date: string; count: number }[] }) {
  return (
    <BarChart
      h={220}
      data={data.map((d) => ({ date: d.date.slice(5), Issued: d.count }))}
      dataKey="date"
      series={[{ name: 'Issued', color: 'indigo.6' }]}
      tickLine="y"
      gridAxis="y"
      role="img"
      aria-label="Certificates issued per day, last 30 days"
    />
  );
}
