/**
 * What the user typed, as the input of a call. The CLI does not check option values twice: the
 * service validates every input with the call's schema and names the wrong field (the runner then
 * names it as typed, e.g. --run), so a value here may still be text where the contract wants a
 * number or one of its words. The field names are checked here, against the call's input.
 */
export function fromFlags<Input>(input: { [K in keyof NoInfer<Input>]?: unknown }): Input {
  return input as Input;
}
