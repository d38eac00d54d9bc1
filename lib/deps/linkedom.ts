// linkedom: a light DOM (about 0.2 s per script) that Observable Plot renders into, in place of a browser.
export { parseHTML } from "npm:linkedom@0.18.15";
