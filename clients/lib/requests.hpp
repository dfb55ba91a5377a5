#pragma once

// What the server answers each request with: one line per request. With it,
// client::ask(request) builds the envelope, sends it, matches the answer to
// it and hands back the answer's body, typed. A request missing here does
// not compile with ask.

#include "protocol/relais.pb.h"

namespace relais::client {

// `Answer`: the body of the ServerMessage that answers; `Resend`: whether
// the request is sent again when the connection comes back before its
// answer did (not for what only makes sense on the connection it was sent
// on, such as logging in or typing notices).
template <class Answer, bool Resend = true>
struct answered_with {
    using answer = Answer;
    static constexpr bool resend = Resend;
};

template <class Request>
struct request_traits;

// clang-format off
template <> struct request_traits<v1::Login> : answered_with<v1::Session, false> {};
template <> struct request_traits<v1::Resume> : answered_with<v1::Session, false> {};
template <> struct request_traits<v1::Logout> : answered_with<v1::Ok, false> {};
template <> struct request_traits<v1::CreateChannel> : answered_with<v1::Channel> {};
template <> struct request_traits<v1::ListChannels> : answered_with<v1::ChannelList> {};
template <> struct request_traits<v1::GetChannel> : answered_with<v1::Channel> {};
template <> struct request_traits<v1::JoinChannel> : answered_with<v1::Channel> {};
template <> struct request_traits<v1::LeaveChannel> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::Invite> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::Kick> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SetTopic> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SetChannelOptions> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SetDisplayName> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ListMembers> : answered_with<v1::MemberList> {};
template <> struct request_traits<v1::OpenDirect> : answered_with<v1::Channel> {};
template <> struct request_traits<v1::SetMemberRole> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SendMessage> : answered_with<v1::Sent> {};
template <> struct request_traits<v1::EditMessage> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::DeleteMessage> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::GetHistory> : answered_with<v1::Events> {};
template <> struct request_traits<v1::Sync> : answered_with<v1::Events> {};
template <> struct request_traits<v1::MarkRead> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::Typing> : answered_with<v1::Ok, false> {};
template <> struct request_traits<v1::PostResource> : answered_with<v1::Sent> {};
template <> struct request_traits<v1::EditResource> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::GetResourceVersions> : answered_with<v1::ResourceVersions> {};
template <> struct request_traits<v1::ListResources> : answered_with<v1::ResourceList> {};
template <> struct request_traits<v1::ListVocabulary> : answered_with<v1::Vocabulary> {};
template <> struct request_traits<v1::Search> : answered_with<v1::SearchResults> {};
template <> struct request_traits<v1::GetThread> : answered_with<v1::Thread> {};
template <> struct request_traits<v1::FollowThread> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ListThreads> : answered_with<v1::ThreadList> {};
template <> struct request_traits<v1::MarkThreadRead> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SolveQuestion> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ListQuestions> : answered_with<v1::ThreadList> {};
template <> struct request_traits<v1::React> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::Pin> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ListPins> : answered_with<v1::PinList> {};
template <> struct request_traits<v1::ListMentions> : answered_with<v1::MentionList> {};
template <> struct request_traits<v1::SetProfile> : answered_with<v1::Profile> {};
template <> struct request_traits<v1::ListMeetingTemplates> : answered_with<v1::MeetingTemplates> {};
template <> struct request_traits<v1::CreateMeeting> : answered_with<v1::MeetingView> {};
template <> struct request_traits<v1::ListMeetings> : answered_with<v1::MeetingList> {};
template <> struct request_traits<v1::GetMeeting> : answered_with<v1::MeetingView> {};
template <> struct request_traits<v1::SetMeetingState> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::JoinMeeting> : answered_with<v1::MeetingView> {};
template <> struct request_traits<v1::SetPhase> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SetMeetingRole> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::RaiseHand> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::GiveFloor> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::OpenPoll> : answered_with<v1::Poll> {};
template <> struct request_traits<v1::Vote> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ClosePoll> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ArrangeTables> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::SubmitCase> : answered_with<v1::Case> {};
template <> struct request_traits<v1::ListCases> : answered_with<v1::CaseList> {};
template <> struct request_traits<v1::SetNote> : answered_with<v1::Note> {};
template <> struct request_traits<v1::GetMinutes> : answered_with<v1::Minutes> {};
template <> struct request_traits<v1::EditMinutes> : answered_with<v1::Minutes> {};
template <> struct request_traits<v1::GetAttendance> : answered_with<v1::Attendance> {};
template <> struct request_traits<v1::GetMeetingReport> : answered_with<v1::MeetingReport> {};
template <> struct request_traits<v1::Register> : answered_with<v1::Session, false> {};
template <> struct request_traits<v1::CreateInvitation> : answered_with<v1::Invitation> {};
template <> struct request_traits<v1::ListInvitations> : answered_with<v1::Invitations> {};
template <> struct request_traits<v1::RevokeInvitation> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ChangePassword> : answered_with<v1::Ok, false> {};
template <> struct request_traits<v1::ListSessions> : answered_with<v1::Sessions> {};
template <> struct request_traits<v1::EndSession> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::CreatePasswordReset> : answered_with<v1::PasswordReset, false> {};
template <> struct request_traits<v1::ResetPassword> : answered_with<v1::Session, false> {};
template <> struct request_traits<v1::GetProfile> : answered_with<v1::Profile> {};
template <> struct request_traits<v1::ListPeople> : answered_with<v1::People> {};
template <> struct request_traits<v1::Mute> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::Ban> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::ReportMessage> : answered_with<v1::Ok, false> {};
template <> struct request_traits<v1::ListReports> : answered_with<v1::Reports> {};
template <> struct request_traits<v1::ResolveReport> : answered_with<v1::Ok> {};
template <> struct request_traits<v1::GetAuditLog> : answered_with<v1::AuditLog> {};
template <> struct request_traits<v1::ExportMyData> : answered_with<v1::MyData> {};
template <> struct request_traits<v1::SetRetention> : answered_with<v1::Channel> {};
template <> struct request_traits<v1::StartUpload> : answered_with<v1::Upload> {};
template <> struct request_traits<v1::UploadChunk> : answered_with<v1::Upload> {};
template <> struct request_traits<v1::Download> : answered_with<v1::FileChunk> {};
// clang-format on

template <class Request>
using answer_to = typename request_traits<Request>::answer;

}  // namespace relais::client
