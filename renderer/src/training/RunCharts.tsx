/** Loss and accuracy per epoch, training against validation: the two charts of a run. */
import type { EpochRecord } from '../../../main/contract/calls-data';
import { LineChart, type ChartSeries } from './LineChart';

function series(records: EpochRecord[], id: string, label: string, className: string, pick: (r: EpochRecord) => number | null): ChartSeries {
  const points = records.flatMap((r) => {
    const value = pick(r);
    return value === null || !Number.isFinite(value) ? [] : [{ x: r.epoch + 1, y: value }];
  });
  return { id, label, className, points };
}

export function RunCharts({ records, plannedEpochs, testId }: { records: EpochRecord[]; plannedEpochs: number | null; testId: string }) {
  return (
    <div className="run-charts">
      <LineChart
        title="Loss"
        xLabel="epoch"
        yLabel="loss"
        xMax={plannedEpochs ?? undefined}
        series={[series(records, 'train', 'train', 'series-train', (r) => r.trainLoss), series(records, 'val', 'validation', 'series-val', (r) => r.valLoss)]}
        testId={`${testId}-loss`}
      />
      <LineChart
        title="Accuracy"
        xLabel="epoch"
        yLabel="accuracy"
        yDomain={[0, 1]}
        xMax={plannedEpochs ?? undefined}
        units="percent"
        series={[series(records, 'train', 'train', 'series-train', (r) => r.trainAcc), series(records, 'val', 'validation', 'series-val', (r) => r.valAcc)]}
        testId={`${testId}-acc`}
      />
    </div>
  );
}
