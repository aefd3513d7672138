package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestVideoLessonAndLiveRoom uploads a video lecture, watches it to the end on a phone (the
// heartbeats of player.js complete it; the file comes from MinIO, seekable by HTTP Range),
// and has a learner meet the trainer in a live room: chat, Q&A, a poll and presence over the
// websocket, and the history rendered again after a reload.
func TestVideoLessonAndLiveRoom(t *testing.T) {
	unit := createUnit(t, "Xã Đông Anh", "XA-DONG-ANH", "")
	createUser(t, "gv.video", "giangvien-pass-1", "Lê Minh Quang", unit, "lecturer", "trainer")
	createUser(t, "hv.video", "hocvien-pass-1", "Đỗ Thị Hằng", unit)
	video, err := filepath.Abs("testdata/bai-giang.webm")
	if err != nil {
		t.Fatal(err)
	}

	trainer := newTab(t, "desktop")
	learner := newTab(t, "phone")
	var roomURL string

	t.Run("lecturer uploads a video lecture and schedules a live session", func(t *testing.T) {
		tb := trainer
		tb.t = t
		tb.signIn("gv.video", "giangvien-pass-1")
		tb.createCourse("VIDEO-E2E", "Cải cách hành chính")
		tb.addModule("Chương 1")
		// The length is read from the file in the browser: nobody typed 0:04.
		tb.uploadLesson("Bài giảng mở đầu", "video", video, nil)
		if o := tb.text("#outline"); !strings.Contains(o, "0:04") {
			t.Fatalf("the outline lacks the 0:04 video lesson:\n%s", o)
		}
		tb.publish()
		tb.openClass("Lớp CCHC K2")
		// The lecturer enrols too: until courses tells media who may view a lesson's file
		// (media.Viewers), only its uploader and admins get its URL.
		tb.enrolUsernames("hv.video", "gv.video")

		tb.fill("#live-title", "Giải đáp trực tuyến")
		tb.fill("#starts_at", "2026-06-01T14:00")
		tb.fill("#stream_url", "https://phat-truc-tiep.example/cchc")
		tb.submit("form[action$='/live'] button")
		roomURL = tb.location()
		if !strings.Contains(roomURL, "/live/") {
			t.Fatalf("after scheduling the page is %s", roomURL)
		}
		tb.waitFor(`document.querySelector("#live-status")?.textContent === "Đã kết nối."`)
	})
	if t.Failed() {
		return
	}

	t.Run("the video is watched to the end", func(t *testing.T) {
		tb := newTab(t, "phone")
		tb.signIn("gv.video", "giangvien-pass-1")
		tb.open("/learn")
		tb.submit(".class-card a.button")
		tb.waitFor(`document.querySelector("video")?.readyState >= 1`)
		tb.checkPage("lesson-video")
		// The video is served from MinIO with Range support: seeking works.
		if !eval[bool](tb, `document.querySelector("video").seekable.length > 0`) {
			t.Error("the video is not seekable")
		}
		tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const v = document.querySelector("video"); v.muted = true; v.play(); })()`))
		tb.waitFor(`document.querySelector("video").ended`)
		tb.waitFor(`document.querySelector("#lesson-status").textContent === "✓ Đã hoàn thành bài này"`)
	})
	if t.Failed() {
		return
	}

	t.Run("learner and trainer meet in the live room", func(t *testing.T) {
		tb := learner
		tb.t = t
		trainer.t = t
		tb.signIn("hv.video", "hocvien-pass-1")
		tb.open(strings.TrimPrefix(roomURL, baseURL))
		tb.waitFor(`document.querySelector("#live-status")?.textContent === "Đã kết nối."`)
		tb.waitFor(`document.querySelector("#presence").textContent === "2 người đang tham gia"`)

		tb.fill("#chat-text", "Em chào thầy ạ")
		tb.do(chromedp.Click(chromedp.CSS("#chat-form button")))
		trainer.waitFor(`[...document.querySelectorAll("#chat .msg")].some(m => m.textContent === "Em chào thầy ạ")`)

		tb.fill("#ask-text", "Hồ sơ trực tuyến nộp ở đâu?")
		tb.do(chromedp.Click(chromedp.CSS("#ask-form button")))
		trainer.waitFor(`[...document.querySelectorAll("#questions .qtext")].some(q => q.textContent === "Hồ sơ trực tuyến nộp ở đâu?")`)
		tb.waitFor(`!!document.querySelector("#questions button.upvote")`)
		tb.do(chromedp.Click(chromedp.CSS("#questions button.upvote")))
		trainer.waitFor(`document.querySelector("#questions .n")?.textContent === "1"`)

		trainer.fill("#poll-question", "Buổi học có hữu ích không?")
		trainer.fill("#poll-choices", "Có\nChưa")
		trainer.do(chromedp.Click(chromedp.CSS("#poll-form button")))
		tb.waitFor(`!!document.querySelector("#polls button.vote")`)
		tb.do(chromedp.Click(chromedp.CSS("#polls button.vote")))
		trainer.waitFor(`document.querySelector("#polls .poll-choices li .n")?.textContent === "1"`)
		tb.checkPage("live")
		trainer.checkPage("live-trainer")

		// The learner's connection drops; what is said meanwhile arrives after it returns,
		// through the reconnect's ?since= catch-up.
		if _, err := chromedp.Call(tb.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		setOffline := func(off bool) {
			if _, err := chromedp.Call(tb.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
				t.Fatal(err)
			}
			// navigator.onLine and the offline/online events follow the network state.
			if _, err := chromedp.Call(tb.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
				Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
				t.Fatal(err)
			}
		}
		setOffline(true)
		tb.waitFor(`document.querySelector("#live-status").textContent.startsWith("Mất kết nối")`)
		trainer.fill("#chat-text", "Nhắn trong lúc em mất mạng")
		trainer.do(chromedp.Click(chromedp.CSS("#chat-form button")))
		trainer.waitFor(`[...document.querySelectorAll("#chat .msg")].some(m => m.textContent === "Nhắn trong lúc em mất mạng")`)
		setOffline(false)
		tb.waitFor(`[...document.querySelectorAll("#chat .msg")].some(m => m.textContent === "Nhắn trong lúc em mất mạng")`)
		tb.waitFor(`document.querySelector("#live-status").textContent === "Đã kết nối."`)

		// After a reload the history is rendered by the server and the socket catches up.
		tb.open(strings.TrimPrefix(roomURL, baseURL))
		if !strings.Contains(tb.text("#chat"), "Em chào thầy ạ") || !strings.Contains(tb.text("#questions"), "Hồ sơ trực tuyến nộp ở đâu?") {
			t.Errorf("the reloaded room lacks the history:\n%s", tb.mainText())
		}
		tb.waitFor(`document.querySelector("#live-status")?.textContent === "Đã kết nối."`)

		// The trainer turns slow mode on and mutes the learner for the length chosen.
		trainer.do(chromedp.SetValue(chromedp.CSS("#slowmode-seconds"), "30"))
		trainer.do(chromedp.Click(chromedp.CSS("#slowmode-form button")))
		tb.waitFor(`document.querySelector("#slowmode").textContent === "Chế độ chậm đang bật: mỗi học viên một tin nhắn mỗi 30 giây."`)
		trainer.do(chromedp.SetValue(chromedp.CSS("#mute-minutes"), "30"))
		trainer.do(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#chat li button.link")].find(b => b.textContent === "Tạm khóa chat").click()`))
		tb.waitFor(`document.querySelector("#live-status").textContent === "Bạn đã bị tạm khóa chat trong 30 phút."`)
		tb.open(strings.TrimPrefix(roomURL, baseURL))
		if got := tb.text("#slowmode"); got != "Chế độ chậm đang bật: mỗi học viên một tin nhắn mỗi 30 giây." {
			t.Errorf("after a reload the slow mode note is %q", got)
		}

		// The trainer ends the session and reads the attendance.
		trainer.submit("form[action$='/end'] button")
		if rows := trainer.text("main"); !strings.Contains(rows, "Đỗ Thị Hằng") {
			t.Errorf("attendance lacks the learner:\n%s", rows)
		}
		trainer.checkPage("live-attendance")
	})
}
