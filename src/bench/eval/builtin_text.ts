// The built-in evaluation text of the teacher-forced evaluation (src/bench/eval.ts): prose, code
// (Python), lists, a table and questions, about 1,550 words (2,258 tokens with the SmolLM2
// tokenizer). Written for this project and dedicated to the public domain (CC0 1.0): anyone may
// use, change and redistribute it without conditions. No backquotes inside, so it lives in a plain
// template literal (scripts/hf/eval_reference.py reads it from here too).
export const BUILTIN_EVAL_NAME = 'builtin-v1';

export const BUILTIN_EVAL_TEXT = `The Lighthouse Keeper's Notebook

When the supply boat left on the first Monday of October, Mara stood on the landing until the sound of its engine was gone. The island was a long ridge of granite with a lighthouse at the north end and a cottage at the south, and between them ran a path of flat stones that her predecessor had laid one summer, one stone a day. She had a notebook, a radio, enough flour for three months, and a list of instructions written in a careful, slanting hand.

The first instruction said: wind the clock before you light the lamp. The second said: write down the weather at six in the morning and six in the evening, even when nothing has changed, because one day something will have changed and you will want to know when. The third said only: the gulls are not your friends.

She learned the rhythm of the place quickly. In the mornings the fog sat in the hollows like milk in a saucer, and by ten it had burned away. The wind came from the west most days, steady and cold, and the sea below the cliffs turned over the same rounded stones it had been turning over for thousands of years. In the afternoons she mended things. There was always something to mend: a hinge, a window frame, the handle of a bucket, the lens cover that stuck when the air was damp.

The lamp itself was older than anyone who had tended it. It turned on a bath of mercury, so that a push of one finger could set the whole great assembly of glass in motion, and once it was turning it would turn all night with only the weight of the clockwork to drive it. Mara liked to stand inside the lantern room at dusk and watch the first sweep of light cross the water. It did not look like much from inside. From a ship, she knew, it was a promise: there is land here, and someone is awake.

In November the storms began. The first one arrived at night with a noise like a train passing overhead, and by morning the path between the cottage and the tower was half under water. She waited for the tide to turn, then walked it with a rope tied around her waist and the other end tied to the railing by the door. It took forty minutes to cover a distance that took five in summer. When she reached the tower she found that a pane in the lantern room had cracked from top to bottom, and she spent the rest of the day fitting a spare pane while the wind tried to take it out of her hands.

That evening she wrote in the notebook: Wind west-southwest, gale force, easing after dark. One pane replaced. Path flooded at high water. Gulls absent. Then, after a pause, she added: I am not lonely, exactly. I am busy, and the busy part of me does not have time to be lonely, and the other part of me is asleep.

By December she had started to talk to the radio, even when nobody was on the other end. She read out the weather as if someone were listening, and sometimes, faintly, someone was: a fishing boat asking about the swell, a coastguard officer checking that the light was lit, once a child on a ferry who had found the frequency by accident and wanted to know whether she had a dog. She did not have a dog. She said she had a great many gulls, and that none of them were her friends, and the child laughed and was called away.

Notes on Measuring Things

Measuring is how we learn whether a change made something better. It sounds obvious, and yet most arguments about speed, quality or cost go on for a long time because nobody has measured the thing being argued about. A good measurement has four parts. First, a clear question: not whether a program is fast, but how many tokens per second it produces for a prompt of a given length on a given machine. Second, a method that someone else could repeat. Third, a number, with an idea of how much that number moves when the same measurement is taken again. Fourth, a comparison: a number on its own says very little, while two numbers taken the same way, side by side, say a great deal.

It helps to write down what you expect before you measure. If the result agrees with the expectation, you have learned that your picture of the system is roughly right. If it disagrees, you have learned something more valuable: your picture is wrong somewhere, and the disagreement tells you where to look. The worst outcome is a measurement you cannot interpret, because it answers a question you did not mean to ask.

A Short Program

The following program reads a list of temperatures, one per line, and prints the average, the lowest and the highest value. Lines that are empty or that do not contain a number are skipped and counted.

import sys


def read_values(lines):
    values = []
    skipped = 0
    for line in lines:
        text = line.strip()
        if not text:
            skipped += 1
            continue
        try:
            values.append(float(text))
        except ValueError:
            skipped += 1
    return values, skipped


def summarize(values):
    if not values:
        return None
    total = sum(values)
    return {
        "count": len(values),
        "mean": total / len(values),
        "min": min(values),
        "max": max(values),
    }


def main():
    values, skipped = read_values(sys.stdin)
    summary = summarize(values)
    if summary is None:
        print("no values")
        return 1
    print("count:", summary["count"])
    print("mean: %.2f" % summary["mean"])
    print("min:", summary["min"], "max:", summary["max"])
    if skipped:
        print("skipped lines:", skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())

A second, smaller example computes a running average over a window of the last n values, using a double-ended queue so that each new value costs the same amount of work no matter how long the input is:

from collections import deque


class RunningAverage:
    def __init__(self, size):
        if size <= 0:
            raise ValueError("size must be positive")
        self.size = size
        self.window = deque()
        self.total = 0.0

    def add(self, value):
        self.window.append(value)
        self.total += value
        if len(self.window) > self.size:
            self.total -= self.window.popleft()
        return self.total / len(self.window)


averager = RunningAverage(3)
for v in [4, 8, 15, 16, 23, 42]:
    print(v, round(averager.add(v), 2))

Things to Pack for a Week on the Island

1. Two wool sweaters, one thick and one thin.
2. Waterproof trousers and a jacket with a hood that stays up in the wind.
3. A head torch, spare batteries, and a second head torch.
4. Rope, about fifteen metres, and two carabiners.
5. Flour, oats, rice, tinned tomatoes, lentils, coffee, tea and sugar.
6. A first aid kit, checked before leaving, not after.
7. The notebook, two pencils and a pencil sharpener.
8. A book you have wanted to read for a long time.

Steps for Lighting the Lamp

- Wind the clock until the weight reaches the top of the tower.
- Check the level of the fuel and the state of the mantle.
- Open the valve slowly and wait for the pressure to build.
- Light the mantle and watch for an even white glow.
- Release the brake so that the lens begins to turn.
- Record the time in the log, with the weather and your initials.

A Table of Tides

Day, first high water, second high water, range in metres:
Monday, 04:12, 16:37, 4.1
Tuesday, 05:03, 17:26, 3.8
Wednesday, 05:58, 18:20, 3.4
Thursday, 06:59, 19:21, 3.0
Friday, 08:06, 20:30, 2.8
Saturday, 09:14, 21:36, 2.9
Sunday, 10:15, 22:33, 3.2

Questions and Answers

Q: Why does the lamp turn instead of shining in every direction at once?
A: A turning beam concentrates the light, so it reaches much farther, and each lighthouse turns at its own rate, so a sailor who times the flashes can tell which lighthouse it is.

Q: What happens if the clockwork stops in the night?
A: The keeper turns the lens by hand until it can be repaired. It is tiring work, and it is the reason for the first instruction in the notebook.

Q: How do you know the light was lit every night of the year?
A: Because it is written down, at dusk and at dawn, every day, even on the days when nothing changed.

The Last Entry

In March the supply boat came back with a new keeper, a tall young man who had never seen the sea before taking the job. Mara showed him the path, the clock, the spare panes and the bucket with the mended handle. She showed him how to read the barometer and how to tell, from the colour of the water under the cliffs, whether a storm was coming. She gave him the list of instructions in the slanting hand, and then, after thinking about it, she gave him her own notebook too.

On the last page she had written: The weather was calm this evening, wind light from the south, sea slight. The lamp was lit at 18:42. Everything that needed mending has been mended, for now. The gulls are still not anyone's friends, but they are good company, in their way. Keep writing things down. One day something will have changed, and you will want to know when.
`;
