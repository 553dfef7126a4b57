import "../css/app.css";
import clsx from "clsx";
import dayjs from "dayjs";
import { nanoid } from "nanoid";

const banner = document.querySelector("#banner");
if (banner) {
  banner.className = clsx("banner", { ready: true });
  banner.dataset.id = nanoid(8);
  banner.textContent = `Built assets loaded at ${dayjs().format("HH:mm:ss")}`;
}
